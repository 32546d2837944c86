package sensor

import (
	"context"
	"errors"
	"io"

	"github.com/iomt-sensor/iomt-sensor/sensor/capture"
)

// Run feeds every packet of src to w until src ends or ctx is done, then
// closes w's flows. A source error other than io.EOF is returned.
func Run(ctx context.Context, src capture.Source, w *Worker) error {
	defer w.Close()
	for n := 0; ; n++ {
		if n&255 == 0 && ctx.Err() != nil {
			return nil
		}
		p, err := src.Next()
		switch {
		case err == nil:
		case errors.Is(err, capture.ErrTimeout):
			n = 0 // a quiet link: look at ctx again
			w.publishStats()
			continue
		case errors.Is(err, io.EOF):
			return nil
		default:
			if ctx.Err() != nil {
				return nil // the source was closed to stop us
			}
			return err
		}
		w.Process(p)
	}
}

//go:build !linux

package capture

import (
	"fmt"
	"runtime"
)

// OpenLive captures from a network interface. It needs Linux (AF_PACKET);
// on other systems it returns an error.
func OpenLive(iface string, opts LiveOptions) (Source, error) {
	return nil, fmt.Errorf("capture: live capture on %q needs Linux (AF_PACKET with TPACKET_V3); this build is for %s: replay capture files instead", iface, runtime.GOOS)
}

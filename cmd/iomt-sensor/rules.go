package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/iomt-sensor/iomt-sensor/fingerprint"
	"github.com/iomt-sensor/iomt-sensor/sensor"
	"github.com/iomt-sensor/iomt-sensor/sensor/capture"
	"github.com/iomt-sensor/iomt-sensor/sensor/inventory"
)

// rulesCmd is "rules check FILE...": every problem of every file, with its
// line, and a non-zero exit when there is any.
func rulesCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) < 2 || args[0] != "check" {
		fmt.Fprintln(stderr, "Usage: iomt-sensor rules check FILE...")
		return errUsage
	}
	bad := 0
	for _, path := range args[1:] {
		data, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(stderr, "%v\n", err)
			bad++
			continue
		}
		f := fingerprint.File{Name: path, Data: data}
		if errs := fingerprint.Check(f); len(errs) > 0 {
			for _, e := range errs {
				fmt.Fprintln(stderr, e)
			}
			bad++
			continue
		}
		e, err := fingerprint.New(append(fingerprint.Defaults(), f)...)
		if err != nil {
			fmt.Fprintln(stderr, err)
			bad++
			continue
		}
		rules, owners, advisories := e.Rules()
		fmt.Fprintf(stdout, "%s: ok (with the defaults: %d rules, %d owners, %d advisories)\n", path, rules, owners, advisories)
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d files have problems", bad, len(args)-1)
	}
	return nil
}

// explainCmd replays capture files and prints why an asset got its identity.
func explainCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var common commonFlags
	common.register(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: iomt-sensor explain [flags] ASSET-ID FILE...\n\nReplays the files (publishing nothing) and explains the asset's identity: each attribute, the rules and facts behind it, and the candidates that lost.\n\n")
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		fs.Usage()
		return errUsage
	}
	id, files := pos[0], pos[1:]
	cfg, err := common.load()
	if err != nil {
		return err
	}
	fp, err := fingerprintEngine(cfg)
	if err != nil {
		return err
	}
	src, err := capture.OpenFiles(files, func(err error) { fmt.Fprintln(stderr, "warning:", err) })
	if err != nil {
		return err
	}
	defer src.Close()
	inv := inventory.New(inventoryConfig(cfg, fp), nil)
	w := sensor.NewWorker(workerConfig(cfg, nil), protocolSpecs(), inv)
	if err := sensor.Run(ctx, src, w); err != nil {
		return err
	}
	identity, ok := inv.Identity(id)
	if !ok {
		return fmt.Errorf("no asset %q in %v (ids look like mac:00:09:fb:01:02:03 or ip:10.0.0.5; see replay --format table)", id, files)
	}
	asset, _ := inv.Asset(id)
	fmt.Fprintf(stdout, "%s (%s)\n\n%s", asset.ID, asset.Category, fingerprint.Explain(identity))
	if asset.Owner != nil {
		fmt.Fprintf(stdout, "\nowner: responsible %s, accountable %s, consulted %v, informed %v\n",
			asset.Owner.Responsible, asset.Owner.Accountable, asset.Owner.Consulted, asset.Owner.Informed)
	}
	for _, adv := range asset.Advisories {
		fmt.Fprintf(stdout, "advisory: %s (%s) %s\n", adv.ID, adv.Severity, adv.Source)
	}
	fmt.Fprintf(stdout, "risk: %.2f\n", asset.Risk)
	return nil
}

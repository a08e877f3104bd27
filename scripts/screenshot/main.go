// Command screenshot saves a PNG of a web page as headless Chromium draws
// it at a given width: scripts/screenshot.sh uses it for the README's
// picture of the admin overview (docs/img/overview.png).
//
//	go run ./scripts/screenshot -url URL -out FILE [-width 1280] [-height 1000] [-element CSS]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/chromedp/chromedp"
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "screenshot:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("screenshot", flag.ContinueOnError)
	url := fs.String("url", "", "page to capture (required)")
	out := fs.String("out", "", "PNG file to write (required)")
	width := fs.Int64("width", 1280, "viewport width, CSS pixels")
	height := fs.Int64("height", 1000, "viewport height: the part of the page captured")
	waitFor := fs.String("wait", "svg.chart", "CSS selector to wait for before capturing")
	element := fs.String("element", "", "capture only the element this CSS selector finds (e.g. #chart-quality)")
	chromium := fs.String("chromium", "/usr/bin/chromium", "Chromium binary")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *url == "" || *out == "" {
		return errors.New("-url and -out are required")
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	dir, err := os.MkdirTemp("", "screenshot-chromium-")
	if err != nil {
		return fmt.Errorf("profile dir: %w", err)
	}
	defer os.RemoveAll(dir)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(*chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(dir),
		chromedp.Flag("hide-scrollbars", true),
	)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	if err := chromedp.Do(browser, chromedp.EmulateViewport(*width, *height),
		chromedp.Navigate(*url), chromedp.WaitVisible(chromedp.CSS(*waitFor))); err != nil {
		return fmt.Errorf("load %s: %w", *url, err)
	}
	capture := chromedp.CaptureScreenshot()
	if *element != "" {
		capture = chromedp.Screenshot(chromedp.CSS(*element))
	}
	png, err := chromedp.Run(browser, capture)
	if err != nil {
		return fmt.Errorf("capture %s: %w", *url, err)
	}
	if err := os.WriteFile(*out, png, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	fmt.Printf("%s: %d bytes, %dx%d\n", *out, len(png), *width, *height)
	return nil
}

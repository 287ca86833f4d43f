module github.com/benchgate/benchgate

go 1.26.8

require (
	github.com/HdrHistogram/hdrhistogram-go v1.4.0
	github.com/PuerkitoBio/goquery v1.13.0
	github.com/andybalholm/cascadia v1.3.4
	golang.org/x/net v0.62.0
)

require (
	github.com/spf13/pflag v1.1.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)

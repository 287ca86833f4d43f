# Developer targets. CI runs .ci/run, which runs `go test -race ./...`.
.PHONY: test race fuzz soak peers vus flows h2peers demo

test:
	go test ./...

race:
	go test -race ./...

# Each fuzz target for FUZZTIME (default 5m).
FUZZTIME ?= 5m
fuzz:
	go test ./engine -run XXX -fuzz '^FuzzParser$$' -fuzztime $(FUZZTIME)
	go test ./engine -run XXX -fuzz '^FuzzPipelined$$' -fuzztime $(FUZZTIME)
	go test ./scenario -run XXX -fuzz '^FuzzParseTemplate$$' -fuzztime $(FUZZTIME)
	go test ./scenario -run XXX -fuzz '^FuzzExtract$$' -fuzztime $(FUZZTIME)
	go test ./cmd/benchgate -run XXX -fuzz '^FuzzParseABFlags$$' -fuzztime $(FUZZTIME)
	go test ./loadtest -run XXX -fuzz '^FuzzReadJSON$$' -fuzztime $(FUZZTIME)
	go test ./loadtest -run XXX -fuzz '^FuzzReadBaseline$$' -fuzztime $(FUZZTIME)
	go test ./scenario -run XXX -fuzz '^FuzzFirstAttr$$' -fuzztime $(FUZZTIME)
	go test ./scenario -run XXX -fuzz '^FuzzFirstAttrBytes$$' -fuzztime $(FUZZTIME)
	go test ./scenario -run XXX -fuzz '^FuzzFormFragment$$' -fuzztime $(FUZZTIME)
	go test ./scenario -run XXX -fuzz '^FuzzRedactText$$' -fuzztime $(FUZZTIME)
	go test ./loadtest -run XXX -fuzz '^FuzzH2Responses$$' -fuzztime $(FUZZTIME)

# Ten minutes of steady load on the demo application; fails if the heap or
# the goroutine count grows.
SOAK ?= 10m
soak:
	go run ./cmd/benchgate soak -d $(SOAK)

peers:
	bench/peers.sh

# Memory per virtual user, ramp accuracy, arrival-rate accuracy.
vus:
	go run ./bench/vus

# The stateful login flow with virtual users beside a hand-written client.
flows:
	bench/flows.sh -t "ours gobase" -r 3

# The HTTP/2 path beside h2load on nginx.
h2peers:
	bench/h2peers.sh

demo:
	go run ./cmd/benchgate demo

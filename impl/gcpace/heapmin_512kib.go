//go:build goexperiment.heapminimum512kib

package gcpace

// heapMinimum is the runtime's least heap goal at GOGC=100 when built with
// GOEXPERIMENT=heapminimum512kib (runtime/mgcpacer.go).
const heapMinimum = 512 << 10

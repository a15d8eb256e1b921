//go:build !goexperiment.heapminimum512kib

package gcpace

// heapMinimum is the runtime's least heap goal at GOGC=100; it scales with
// GOGC (runtime/mgcpacer.go: defaultHeapMinimum × GOGC/100).
const heapMinimum = 4 << 20

package models

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// Graph optimisation levels of SessionOptions.GraphOptimization.
const (
	OptimizeDisable  = "disable"
	OptimizeBasic    = "basic"
	OptimizeExtended = "extended"
	OptimizeAll      = "all"
)

// Execution providers of SessionOptions.ExecutionProvider.
const (
	ProviderCPU      = "cpu"
	ProviderCUDA     = "cuda"
	ProviderTensorRT = "tensorrt"
)

// optimizationLevels maps the option names to ONNX Runtime's levels.
var optimizationLevels = map[string]ort.GraphOptimizationLevel{
	OptimizeDisable:  ort.GraphOptimizationLevelDisableAll,
	OptimizeBasic:    ort.GraphOptimizationLevelEnableBasic,
	OptimizeExtended: ort.GraphOptimizationLevelEnableExtended,
	OptimizeAll:      ort.GraphOptimizationLevelEnableAll,
}

// SessionOptions tune one ONNX Runtime session. The zero value is usable:
// one intra-op thread, every graph optimisation, the CPU.
type SessionOptions struct {
	// IntraOpThreads is the number of threads one inference uses; defaults
	// to 1 (a node runs many cameras: parallelism comes from several
	// sessions, not from one inference).
	IntraOpThreads int
	// InterOpThreads is the number of threads running independent graph
	// nodes in parallel; defaults to 1 (sequential execution).
	InterOpThreads int
	// GraphOptimization is "disable", "basic", "extended" or "all";
	// defaults to "all".
	GraphOptimization string
	// ExecutionProvider is "cpu", "cuda" or "tensorrt"; defaults to "cpu".
	// CUDA and TensorRT need an ONNX Runtime library built with them.
	ExecutionProvider string
}

// withDefaults fills the zero fields.
func (o SessionOptions) withDefaults() SessionOptions {
	if o.IntraOpThreads == 0 {
		o.IntraOpThreads = 1
	}
	if o.InterOpThreads == 0 {
		o.InterOpThreads = 1
	}
	if o.GraphOptimization == "" {
		o.GraphOptimization = OptimizeAll
	}
	if o.ExecutionProvider == "" {
		o.ExecutionProvider = ProviderCPU
	}
	return o
}

// Validate checks the fields (after defaults) without touching ONNX Runtime;
// each problem names the field and the accepted values.
func (o SessionOptions) Validate() error {
	o = o.withDefaults()
	switch {
	case o.IntraOpThreads < 0:
		return fmt.Errorf("%w: IntraOpThreads %d: want ≥ 1, or 0 for 1", ErrInvalidOptions, o.IntraOpThreads)
	case o.InterOpThreads < 0:
		return fmt.Errorf("%w: InterOpThreads %d: want ≥ 1, or 0 for 1", ErrInvalidOptions, o.InterOpThreads)
	}
	if _, ok := optimizationLevels[o.GraphOptimization]; !ok {
		return fmt.Errorf("%w: GraphOptimization %q: want %s, %s, %s or %s", ErrInvalidOptions, o.GraphOptimization,
			OptimizeDisable, OptimizeBasic, OptimizeExtended, OptimizeAll)
	}
	switch o.ExecutionProvider {
	case ProviderCPU, ProviderCUDA, ProviderTensorRT:
	default:
		return fmt.Errorf("%w: ExecutionProvider %q: want %s, %s or %s", ErrInvalidOptions, o.ExecutionProvider,
			ProviderCPU, ProviderCUDA, ProviderTensorRT)
	}
	return nil
}

// AvailableProviders lists the execution providers the loaded ONNX Runtime
// library can use, "cpu" first. CUDA and TensorRT are probed once per
// process by asking the library to configure them, which fails when it was
// built without them (ONNX Runtime then prints its own error lines on
// stderr, once). InitRuntime must have succeeded first.
func AvailableProviders() ([]string, error) {
	if !RuntimeInitialized() {
		return nil, ErrRuntimeNotInitialized
	}
	providers.once.Do(func() {
		avail := []string{ProviderCPU}
		for _, p := range []string{ProviderCUDA, ProviderTensorRT} {
			opts, err := ort.NewSessionOptions()
			if err != nil {
				providers.err = fmt.Errorf("session options: %w", err)
				return
			}
			if appendProvider(opts, p) == nil {
				avail = append(avail, p)
			}
			opts.Destroy()
		}
		providers.list = avail
	})
	return slices.Clone(providers.list), providers.err
}

// providers caches AvailableProviders: the library cannot change once
// loaded.
var providers struct {
	once sync.Once
	list []string
	err  error
}

// appendProvider asks ONNX Runtime to run sessions of opts on provider p
// (cuda or tensorrt; the CPU needs nothing).
func appendProvider(opts *ort.SessionOptions, p string) error {
	switch p {
	case ProviderCUDA:
		cuda, err := ort.NewCUDAProviderOptions()
		if err != nil {
			return err
		}
		defer cuda.Destroy()
		return opts.AppendExecutionProviderCUDA(cuda)
	case ProviderTensorRT:
		trt, err := ort.NewTensorRTProviderOptions()
		if err != nil {
			return err
		}
		defer trt.Destroy()
		return opts.AppendExecutionProviderTensorRT(trt)
	}
	return nil
}

// ortOptions builds ONNX Runtime session options; the caller destroys them.
// o must have its defaults and be valid.
func (o SessionOptions) ortOptions() (*ort.SessionOptions, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	fail := func(err error) (*ort.SessionOptions, error) {
		opts.Destroy()
		return nil, err
	}
	if err := opts.SetIntraOpNumThreads(o.IntraOpThreads); err != nil {
		return fail(fmt.Errorf("intra-op threads %d: %w", o.IntraOpThreads, err))
	}
	if err := opts.SetInterOpNumThreads(o.InterOpThreads); err != nil {
		return fail(fmt.Errorf("inter-op threads %d: %w", o.InterOpThreads, err))
	}
	if o.InterOpThreads > 1 {
		if err := opts.SetExecutionMode(ort.ExecutionModeParallel); err != nil {
			return fail(fmt.Errorf("parallel execution: %w", err))
		}
	}
	if err := opts.SetGraphOptimizationLevel(optimizationLevels[o.GraphOptimization]); err != nil {
		return fail(fmt.Errorf("graph optimisation %s: %w", o.GraphOptimization, err))
	}
	if o.ExecutionProvider != ProviderCPU {
		avail, err := AvailableProviders()
		if err != nil {
			return fail(err)
		}
		if !slices.Contains(avail, o.ExecutionProvider) {
			return fail(fmt.Errorf("%w: execution provider %s: the ONNX Runtime library at %s has only %s",
				ErrProviderUnavailable, o.ExecutionProvider, runtimePath(), strings.Join(avail, ", ")))
		}
		if err := appendProvider(opts, o.ExecutionProvider); err != nil {
			return fail(fmt.Errorf("%w: execution provider %s: %w", ErrProviderUnavailable, o.ExecutionProvider, err))
		}
	}
	return opts, nil
}

// runtimePath is the library InitRuntime loaded.
func runtimePath() string {
	ortState.mu.Lock()
	defer ortState.mu.Unlock()
	return ortState.path
}

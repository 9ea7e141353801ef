package models

import (
	"errors"
	"fmt"

	ort "github.com/yalue/onnxruntime_go"
)

// Limits of the caller buffers a runner binds in place, with their reasons.
const (
	// maxCallerInputs bounds the caller buffers one session keeps bound. A
	// camera pipeline's preprocessor reuses one input buffer, so this is
	// how many cameras one session serves with no setup per frame; past
	// it, the least recently used binding is replaced (a few microseconds,
	// still cheaper than copying the 2 MB tensor of a 416×416 input).
	maxCallerInputs = 64
	// callerInputIdle is how many runs of a session a bound buffer may go
	// unused before the session lets go of it, so that the buffer of a
	// pipeline that has ended is not held on to for long.
	callerInputIdle = 1024
)

// callerInput is one caller's input buffer bound, where it lies, as the
// input of a batch-1 run.
type callerInput struct {
	in      *ort.Tensor[float32] // over the caller's buffer
	binding *ort.IoBinding       // in, and the runner's batch-1 output
	last    uint64               // runner.runs when last used
}

func (c *callerInput) close() error {
	return errors.Join(c.binding.Destroy(), c.in.Destroy())
}

// runInPlace runs one item read straight from input (of the model's input
// length), without copying it into the runner's buffer: copying a 416×416
// tensor costs about as much as decoding and NMS together, several times
// over once inference has pushed it out of the caches. The output is item
// 0 of the output buffer, as after run(1).
func (r *runner) runInPlace(input []float32) error {
	c, err := r.callerInput(input)
	if err != nil {
		return err
	}
	if err := r.session.RunWithBinding(c.binding); err != nil {
		return fmt.Errorf("run: %w", err)
	}
	return nil
}

// callerInput returns the binding of input, making it if needed, and lets
// go of the bindings idle for callerInputIdle runs (every callerInputIdle
// runs) or, past maxCallerInputs, of the least recently used one.
func (r *runner) callerInput(input []float32) (*callerInput, error) {
	r.runs++
	var errs []error
	if r.runs%callerInputIdle == 0 {
		for key, c := range r.callers {
			if r.runs-c.last > callerInputIdle {
				errs = append(errs, c.close())
				delete(r.callers, key)
			}
		}
	}
	key := &input[0]
	if c := r.callers[key]; c != nil {
		c.last = r.runs
		return c, errors.Join(errs...)
	}
	if len(r.callers) >= maxCallerInputs {
		var lru *float32
		for k, c := range r.callers {
			if lru == nil || c.last < r.callers[lru].last {
				lru = k
			}
		}
		errs = append(errs, r.callers[lru].close())
		delete(r.callers, lru)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("release input binding: %w", err)
	}

	if r.outs[0] == nil {
		if err := r.bind(1); err != nil {
			return nil, err
		}
	}
	in, err := ort.NewTensor(batchShape(1, r.mod.m.Input.TensorShape()), input)
	if err != nil {
		return nil, fmt.Errorf("input tensor: %w", err)
	}
	b, err := r.session.CreateIoBinding()
	if err == nil {
		err = b.BindInput(r.mod.inName, in)
		if err == nil {
			err = b.BindOutput(r.mod.m.Output.Name, r.outs[0])
		}
		if err != nil {
			b.Destroy()
		}
	}
	if err != nil {
		in.Destroy()
		return nil, fmt.Errorf("bind input: %w", err)
	}
	c := &callerInput{in: in, binding: b, last: r.runs}
	r.callers[key] = c
	return c, nil
}

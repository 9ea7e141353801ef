package track

// axis is a constant-velocity Kalman filter for one box coordinate: the
// state is the position x and velocity v, P its covariance (symmetric, so
// three numbers).
type axis struct {
	x, v          float64
	pxx, pxv, pvv float64
}

// newAxis starts a filter at position z with measurement variance r and an
// unknown velocity of variance vv.
func newAxis(z, r, vv float64) axis {
	return axis{x: z, pxx: r, pvv: vv}
}

// predict moves the state dt seconds ahead under white-noise acceleration
// of spectral density q.
func (a *axis) predict(dt, q float64) {
	if dt <= 0 {
		return
	}
	a.x += a.v * dt
	dt2 := dt * dt
	a.pxx += dt*(2*a.pxv+dt*a.pvv) + q*dt2*dt/3
	a.pxv += dt*a.pvv + q*dt2/2
	a.pvv += q * dt
}

// update corrects the state with a measured position z of variance r.
func (a *axis) update(z, r float64) {
	s := a.pxx + r
	kx, kv := a.pxx/s, a.pxv/s
	y := z - a.x
	a.x += kx * y
	a.v += kv * y
	a.pvv -= kv * a.pxv
	a.pxv -= kx * a.pxv
	a.pxx -= kx * a.pxx
}

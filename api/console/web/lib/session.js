// The signed-in session as /api/v1/me tells it, and what its role may do
// (for showing or hiding controls only: the server decides every call).

let current = null;

export const session = () => current;
export const setSession = (s) => {
  current = s;
};

export const role = () => current?.user?.role || '';
export const isICT = () => role() === 'ict_admin';
export const isAdmin = () => role() === 'ict_admin' || role() === 'system_admin';
export const isAuditor = () => role() === 'auditor';
// canReview: may mark violations and acknowledge alerts.
export const canReview = () => ['ict_admin', 'system_admin', 'operator'].includes(role());

// hasCap reports whether a camera (as /api/v1/cameras lists it) carries
// the capability for the caller.
export const hasCap = (camera, cap) => Boolean(camera?.capabilities?.includes(cap));

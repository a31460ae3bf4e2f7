"""Writes exact DSO test vectors (oracles) to src/test/resources/oracles/dso_oracles.json.

Every quantity is computed exactly by linear algebra on small known chains, and each
gradient is cross-checked against central finite differences of the exact objective
before it is written. The formulas are those of docs/math.md (section numbers below).
Run: python3 scripts/make_oracles.py   (numpy only, a few seconds)

Conventions shared by all cases (arrays are nested lists, row-major):
  states 0..n-1; parameters theta in R^k.
  logits[x][y] = Phi[x][y] . theta ;  P(y|x) = softmax_y(logits[x])      (row-stochastic)
  L(x) = c[x] + Psi[x] . theta + 0.5 theta^T M theta                       (cost, minimized)
  score[x][y] = d/dtheta ln P(y|x) ;  dL[x] = d/dtheta L(x)
"""
import json
import os

import numpy as np

rng = np.random.default_rng(20261126)
out = {"generator": "scripts/make_oracles.py", "cases": {}}


def softmax_rows(lg):
    lg = lg - lg.max(-1, keepdims=True)
    e = np.exp(lg)
    return e / e.sum(-1, keepdims=True)


def fd_grad(f, th, h=1e-6):
    g = np.zeros_like(th)
    for i in range(len(th)):
        e = np.zeros_like(th)
        e[i] = h
        g[i] = (f(th + e) - f(th - e)) / (2 * h)
    return g


def check(name, a, b, tol):
    err = float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
    assert err < tol, f"{name}: {err}"
    return err


class SoftmaxChain:
    """Discounted chain of DSO.md section 1a with softmax transitions."""

    def __init__(self, n, k, gamma, scale=1.0):
        self.n, self.k, self.gamma = n, k, gamma
        self.Phi = rng.normal(size=(n, n, k)) * scale
        self.c = rng.normal(size=n)
        self.Psi = rng.normal(size=(n, k)) * 0.3
        self.M = np.diag(rng.uniform(0.1, 0.5, size=k))
        self.P0 = rng.dirichlet(np.ones(n))

    def P(self, th):
        return softmax_rows(self.Phi @ th)

    def L(self, th):
        return self.c + self.Psi @ th + 0.5 * th @ self.M @ th

    def dL(self, th):
        return self.Psi + (self.M @ th)[None, :]

    def score(self, th):
        P = self.P(th)
        return self.Phi - np.einsum("xy,xyk->xk", P, self.Phi)[:, None, :]

    def d2lnP(self, th):
        P = self.P(th)
        D = self.score(th)
        cov = np.einsum("xy,xyk,xyl->xkl", P, D, D)
        return -np.broadcast_to(cov[:, None], (self.n, self.n, self.k, self.k))

    def V(self, th):
        return np.linalg.solve(np.eye(self.n) - self.gamma * self.P(th), self.L(th))

    def J(self, th):
        return self.P0 @ self.V(th)

    def rho(self, th):  # unnormalized discounted visitation density (DSO.md 1a)
        return np.linalg.solve(np.eye(self.n) - self.gamma * self.P(th).T, self.P0)

    def g_local(self, th):
        return self.dL(th) + self.gamma * np.einsum("xy,xyk,y->xk", self.P(th), self.score(th), self.V(th))

    def grad(self, th):  # Theorem 1 (DSO.md 3a)
        return self.rho(th) @ self.g_local(th)

    def base(self, th):
        return {
            "n": self.n, "k": self.k, "gamma": self.gamma, "theta": th.tolist(),
            "Phi": self.Phi.tolist(), "c": self.c.tolist(), "Psi": self.Psi.tolist(),
            "M": self.M.tolist(), "P0": self.P0.tolist(),
        }


def discounted_case(n, k, gamma, what):
    ch = SoftmaxChain(n, k, gamma)
    th = rng.normal(size=k) * 0.5
    P, V, rho = ch.P(th), ch.V(th), ch.rho(th)
    g = ch.grad(th)
    check(f"{what} grad", g, fd_grad(ch.J, th), 1e-7)
    H = np.stack([fd_grad(lambda t: ch.grad(t)[i], th) for i in range(k)])
    H = 0.5 * (H + H.T)
    sc = ch.score(th)
    # surrogate Hessian (DSO.md 4f) and the correction C with d2J = H_S + C + C^T
    H_S = np.einsum("x,kl->kl", rho, ch.M) + gamma * np.einsum(
        "x,xy,xykl,y->kl", rho, P, ch.d2lnP(th) + np.einsum("xyk,xyl->xykl", sc, sc), V)
    dV = np.linalg.solve(np.eye(n) - gamma * P, ch.g_local(th))
    C = gamma * np.einsum("x,xy,xyk,yl->kl", rho, P, sc, dV)
    check(f"{what} hessian split", H, H_S + C + C.T, 1e-5)
    F = np.einsum("x,xy,xyk,xyl->kl", rho, P, sc, sc)  # chain Fisher (DSO.md 4e)
    # a second parameter, for the surrogate and the performance-difference identity (DSO.md 4a)
    th2 = th + rng.normal(size=k) * 0.3
    S_bar = rho @ (ch.L(th2) + gamma * ch.P(th2) @ V - V)
    perf_diff = ch.rho(th2) @ (ch.L(th2) + gamma * ch.P(th2) @ V - V)
    check(f"{what} perf-diff", perf_diff, ch.J(th2) - ch.J(th), 1e-10)
    d = ch.base(th)
    d.update({
        "setting": "discounted",
        "P": P.tolist(), "L": ch.L(th).tolist(), "dL": ch.dL(th).tolist(), "score": sc.tolist(),
        "V": V.tolist(), "rho": rho.tolist(), "J": float(ch.J(th)), "grad_J": g.tolist(),
        "hess_J": H.tolist(), "surrogate_hess": H_S.tolist(), "C": C.tolist(),
        "fisher_chain": F.tolist(), "grad_V": dV.tolist(),
        "theta2": th2.tolist(), "J_theta2": float(ch.J(th2)),
        "surrogate_S_bar_at_theta2": float(S_bar),
        "notes": "S_bar(alpha)=sum_x rho_theta(x)[L(x,theta+alpha)+gamma sum_y P(y|x,theta+alpha)V_theta(y)-V_theta(x)], "
                 "evaluated at theta+alpha=theta2; J(theta2)-J(theta) equals the same sum with rho_theta2.",
    })
    return d


def average_case(n, k):
    ch = SoftmaxChain(n, k, 1.0)
    th = rng.normal(size=k) * 0.5

    def stat(t):
        w, U = np.linalg.eig(ch.P(t).T)
        v = np.real(U[:, np.argmin(abs(w - 1))])
        return v / v.sum()

    def Javg(t):
        return stat(t) @ ch.L(t)

    dst, P, Lv = stat(th), ch.P(th), ch.L(th)
    Ja = dst @ Lv
    A = np.vstack([np.eye(n) - P, dst])
    Vd = np.linalg.lstsq(A, np.concatenate([Lv - Ja, [0.0]]), rcond=None)[0]
    g = dst @ (ch.dL(th) + np.einsum("xy,xyk,y->xk", P, ch.score(th), Vd))  # DSO.md 3b
    check("average grad", g, fd_grad(Javg, th), 1e-7)
    d = ch.base(th)
    d.pop("gamma")
    d.update({"setting": "average", "P": P.tolist(), "L": Lv.tolist(), "stationary": dst.tolist(),
              "J": float(Ja), "V_differential": Vd.tolist(), "grad_J": g.tolist(),
              "notes": "J = stationary . L; V_differential normalized so stationary . V = 0."})
    return d


def finite_horizon_case(n, k, T):
    P0 = rng.dirichlet(np.ones(n))
    Phis = rng.normal(size=(T, n, n, k))
    cs = rng.normal(size=(T + 1, n))
    Psi = rng.normal(size=(n, k)) * 0.3
    th = rng.normal(size=k) * 0.5

    def Pt(t, th_):
        return softmax_rows(Phis[t] @ th_)

    def Lt(t, th_):
        return cs[t] + (Psi @ th_ if t < T else 0.0)

    def J(th_):
        V = Lt(T, th_)
        for t in reversed(range(T)):
            V = Lt(t, th_) + Pt(t, th_) @ V
        return P0 @ V

    Vs = [None] * (T + 1)
    Vs[T] = Lt(T, th)
    for t in reversed(range(T)):
        Vs[t] = Lt(t, th) + Pt(t, th) @ Vs[t + 1]
    m, g = P0.copy(), np.zeros(k)
    for t in range(T):  # DSO.md 3c
        Pm = Pt(t, th)
        sc = Phis[t] - np.einsum("xy,xyk->xk", Pm, Phis[t])[:, None, :]
        g += m @ (Psi + np.einsum("xy,xyk,y->xk", Pm, sc, Vs[t + 1]))
        m = m @ Pm
    check("finite-horizon grad", g, fd_grad(J, th), 1e-7)
    return {"setting": "finite_horizon", "n": n, "k": k, "T": T, "theta": th.tolist(), "P0": P0.tolist(),
            "Phi_t": Phis.tolist(), "c_t": cs.tolist(), "Psi": Psi.tolist(), "J": float(J(th)),
            "grad_J": g.tolist(), "V_t": [v.tolist() for v in Vs],
            "notes": "L_t(x) = c_t[x] + Psi[x].theta for t<T, L_T(x) = c_T[x]; P_t(y|x)=softmax(Phi_t[x][y].theta)."}


def smdp_case(n, m, k, gamma):
    """Standard MDP marginalized into a chain (DSO.md 2a-2c): softmax policy, theta-free env."""
    P0 = rng.dirichlet(np.ones(n))
    p_env = rng.dirichlet(np.ones(n), size=(n, m))
    Fa = rng.normal(size=(n, m, k))
    ell = rng.normal(size=(n, m))
    th = rng.normal(size=k) * 0.5

    def pi_of(t):
        return softmax_rows(Fa @ t)

    def chain(t):
        pi = pi_of(t)
        return np.einsum("xa,xay->xy", pi, p_env), np.einsum("xa,xa->x", pi, ell)

    def J(t):
        P, L = chain(t)
        return P0 @ np.linalg.solve(np.eye(n) - gamma * P, L)

    pi = pi_of(th)
    Pm, Lm = chain(th)
    score_pi = Fa - np.einsum("xa,xak->xk", pi, Fa)[:, None, :]
    post = np.einsum("xa,xay->xay", pi, p_env) / Pm[:, None, :]
    score_chain = np.einsum("xay,xak->xyk", post, score_pi)
    Vm = np.linalg.solve(np.eye(n) - gamma * Pm, Lm)
    rho = np.linalg.solve(np.eye(n) - gamma * Pm.T, P0)
    Q = ell + gamma * np.einsum("xay,y->xa", p_env, Vm)
    g = rho @ np.einsum("xa,xak,xa->xk", pi, score_pi, Q)
    check("smdp grad", g, fd_grad(J, th), 1e-7)
    F_chain = np.einsum("x,xy,xyk,xyl->kl", rho, Pm, score_chain, score_chain)
    F_pol = np.einsum("x,xa,xak,xal->kl", rho, pi, score_pi, score_pi)
    return {"setting": "smdp_discounted", "n": n, "m": m, "k": k, "gamma": gamma, "theta": th.tolist(),
            "P0": P0.tolist(), "p_env": p_env.tolist(), "policy_features": Fa.tolist(), "cost": ell.tolist(),
            "pi": pi.tolist(), "P_chain": Pm.tolist(), "L_chain": Lm.tolist(), "V": Vm.tolist(), "Q": Q.tolist(),
            "rho": rho.tolist(), "score_policy": score_pi.tolist(), "score_chain": score_chain.tolist(),
            "J": float(J(th)), "grad_J": g.tolist(), "fisher_chain": F_chain.tolist(),
            "fisher_policy": F_pol.tolist(),
            "notes": "pi(a|x)=softmax_a(policy_features[x][a].theta); p_env[x][a][y]=p(y|x,a); cost[x][a]=l(x,a); "
                     "score_chain = E[score_policy | x, y] (DSO.md 2c); fisher_policy - fisher_chain is PSD."}


def lmdp_case():
    """First-exit LMDP (DSO.md 2g, 5): a random walk to a terminal state on the right."""
    nl = 7
    term = np.zeros(nl, bool)
    term[-1] = True
    p = np.zeros((nl, nl))
    for x in range(nl - 1):
        p[x, max(x - 1, 0)] += 0.3
        p[x, x] += 0.3
        p[x, x + 1] += 0.4
    p[-1, -1] = 1.0
    q = np.full(nl, 0.2)
    q[-1] = 0.0
    Nn = ~term
    G = np.diag(np.exp(-q[Nn])) @ p[np.ix_(Nn, Nn)]
    b = np.exp(-q[Nn]) * (p[np.ix_(Nn, term)] @ np.exp(-q[term]))
    z = np.ones(nl)
    z[term] = np.exp(-q[term])
    z[Nn] = np.linalg.solve(np.eye(Nn.sum()) - G, b)
    u = p * z[None, :]
    u /= u.sum(1, keepdims=True)

    def V_of(U):
        Lx = q.copy()
        for x in np.where(Nn)[0]:
            s = U[x] > 0
            Lx[x] += np.sum(U[x][s] * np.log(U[x][s] / p[x][s]))
        Vv = np.zeros(nl)
        Vv[term] = q[term]
        Vv[Nn] = np.linalg.solve(np.eye(Nn.sum()) - U[np.ix_(Nn, Nn)], Lx[Nn] + U[np.ix_(Nn, term)] @ Vv[term])
        return Vv

    check("lmdp optimal value", V_of(u), -np.log(z), 1e-10)
    k = 3
    Fl = rng.normal(size=(nl, nl, k))
    mask = p > 0

    def U_of(th):
        lg = np.where(mask, Fl @ th + np.log(np.where(mask, p, 1.0)), -np.inf)
        return softmax_rows(lg)

    th = rng.normal(size=k) * 0.3
    U = U_of(th)
    Vv = V_of(U)
    rho = np.zeros(nl)
    rho[Nn] = np.linalg.solve(np.eye(Nn.sum()) - U[np.ix_(Nn, Nn)].T, np.eye(nl)[0][Nn])
    sc = np.where(mask[..., None], Fl - np.einsum("xy,xyk->xk", U, Fl)[:, None, :], 0)
    logr = np.where(mask, np.log(np.where(mask, U, 1) / np.where(mask, p, 1)), 0)
    g = np.einsum("x,xy,xyk,xy->k", rho, U, sc, logr + Vv[None, :])
    check("lmdp grad", g, fd_grad(lambda t: V_of(U_of(t))[0], th), 1e-7)
    return {"setting": "lmdp_first_exit", "n": nl, "terminal": term.tolist(), "passive": p.tolist(), "q": q.tolist(),
            "z": z.tolist(), "V_optimal": (-np.log(z)).tolist(), "u_optimal": u.tolist(),
            "k": k, "features": Fl.tolist(), "theta": th.tolist(), "U": U.tolist(), "V_U": Vv.tolist(),
            "J_from_state0": float(Vv[0]), "grad_J_from_state0": g.tolist(),
            "notes": "gamma=1, start state 0. L(x)=q(x)+KL(U(.|x)||p(.|x)) off the terminal set, L=q on it (final cost). "
                     "U(y|x) = softmax_y(features[x][y].theta + ln p(y|x)) over the support of p."}


def lqr_case():
    """Discounted LQR with a linear Gaussian policy u = -K x + N(0, diag(exp(2 log_std)))."""
    nx, nu, gamma = 3, 2, 0.95
    A = np.eye(nx) + rng.normal(size=(nx, nx)) * 0.1
    B = rng.normal(size=(nx, nu)) * 0.5
    Q = np.diag(rng.uniform(0.5, 1.5, size=nx))
    R = np.diag(rng.uniform(0.1, 0.3, size=nu))
    W = np.eye(nx) * 0.01
    X0 = np.eye(nx) * 0.5
    K = rng.normal(size=(nu, nx)) * 0.1
    log_std = np.full(nu, np.log(0.3))

    def J(Kf, ls):
        Kk = Kf.reshape(nu, nx)
        Su = np.diag(np.exp(2 * ls))
        AK = A - B @ Kk
        # Sigma = X0 + gamma (AK Sigma AK^T + (B Su B^T + W)/(1-gamma))   (discounted state second moment)
        rhs = X0 + gamma * (B @ Su @ B.T + W) / (1 - gamma)
        Sig = np.linalg.solve(np.eye(nx * nx) - gamma * np.kron(AK, AK), rhs.reshape(-1)).reshape(nx, nx)
        return float(np.trace((Q + Kk.T @ R @ Kk) @ Sig) + np.trace(R @ Su) / (1 - gamma))

    gK = fd_grad(lambda kf: J(kf, log_std), K.reshape(-1)).reshape(nu, nx)
    # closed form: grad_K J = 2 ((R + gamma B^T P B) K - gamma B^T P A) Sigma
    AK = A - B @ K
    Pm = np.linalg.solve(np.eye(nx * nx) - gamma * np.kron(AK.T, AK.T), (Q + K.T @ R @ K).reshape(-1)).reshape(nx, nx)
    Su = np.diag(np.exp(2 * log_std))
    rhs = X0 + gamma * (B @ Su @ B.T + W) / (1 - gamma)
    Sig = np.linalg.solve(np.eye(nx * nx) - gamma * np.kron(AK, AK), rhs.reshape(-1)).reshape(nx, nx)
    g_closed = 2 * ((R + gamma * B.T @ Pm @ B) @ K - gamma * B.T @ Pm @ A) @ Sig
    check("lqr grad closed form", g_closed, gK, 1e-6)
    gls = fd_grad(lambda ls: J(K.reshape(-1), ls), log_std)
    return {"setting": "lqr_discounted", "nx": nx, "nu": nu, "gamma": gamma, "A": A.tolist(), "B": B.tolist(),
            "Q": Q.tolist(), "R": R.tolist(), "W": W.tolist(), "X0": X0.tolist(), "K": K.tolist(),
            "log_std": log_std.tolist(), "J": J(K.reshape(-1), log_std), "grad_K": g_closed.tolist(),
            "grad_log_std": gls.tolist(),
            "notes": "x0 ~ N(0, X0); x' = A x + B u + w, w ~ N(0, W); u = -K x + e, e ~ N(0, diag(exp(2 log_std))); "
                     "step cost x^T Q x + u^T R u (u the sampled action); J = E sum_t gamma^t cost_t, no termination."}


out["cases"]["chain3_discounted"] = discounted_case(3, 2, 0.9, "chain3")
out["cases"]["chain6_discounted"] = discounted_case(6, 4, 0.95, "chain6")
out["cases"]["chain5_average"] = average_case(5, 3)
out["cases"]["chain4_finite_horizon"] = finite_horizon_case(4, 3, 5)
out["cases"]["smdp6x3_discounted"] = smdp_case(6, 3, 4, 0.9)
out["cases"]["lmdp7_first_exit"] = lmdp_case()
out["cases"]["lqr3x2_discounted"] = lqr_case()

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources",
                    "oracles", "dso_oracles.json")
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", os.path.normpath(path), "with", ", ".join(out["cases"]))

#!/usr/bin/python3
"""Golden float64 trajectories of SOAP (nikhilvyas/SOAP) for the descent Float64 reference.

Run with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 tools/golden/soap.py

It writes packages/core/test/fixtures/soap/<case>.json in the format of tools/golden/generate.py (the `descent
replay` input plus the expected trajectory: every parameter after every step and the final state).
packages/core/test/soap.test.ts replays each file through the reference.

SOAP is not packaged for Debian, so upstream's `SOAP` class is transcribed below from nikhilvyas/SOAP's soap.py
at commit f42d296cb4146a67fbe811371e6badb9a39cc54d ("momentum change", 2024-12-02; unchanged at the repository's
head a1e553530fde97d0e6b307d7c82ac6d38b072340), statement for statement, with torch 1.13 operations
(tensordot, lerp_, linalg.eigh, linalg.qr, argsort, index_select). Departures from the file, none of which
changes the algorithm:
* Float64 throughout: upstream casts every preconditioner to float32 (`m.data.float()`) before eigh and QR and
  back afterwards; here the casts are left out, so the eigenbases are computed in the parameters' float64.
* The closure argument of step() and the unused `get_fast_QR` comment are left out.

The reference's first eigenbasis comes from a Jacobi eigendecomposition whose eigenvector signs differ from
LAPACK's; the parameters do not depend on them, and every case runs past a refresh (one power iteration and a QR,
whose result does not depend on those signs), so the final state is compared as it is.

Shapes are chosen so that no preconditioner has a repeated eigenvalue when a basis is computed (a repeated
eigenvalue, e.g. the null space of a rank-deficient d × d statistic with d > 2 after the first step, has no unique
eigenbasis, and SOAP's update then depends on the solver's choice): square modes, [2, 3] (a one-dimensional null
space), a vector of length 2 with precondition1d.

Gradients are those of a noisy quadratic f(θ) = ½ Σ a (θ − c)² at torch's current parameters, recorded exactly.
ATEN_CPU_CAPABILITY=default (portable kernels, no FMA) as in generate.py.
"""

import os

os.environ['ATEN_CPU_CAPABILITY'] = 'default'

import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
from itertools import chain  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402
from common import write_fixtures  # noqa: E402
import torch.optim as optim  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / 'packages' / 'core' / 'test' / 'fixtures' / 'soap'
GENERATOR = f'tools/golden/soap.py (nikhilvyas/SOAP soap.py @ f42d296), PyTorch {torch.__version__}'


# --------------------------------------------------------------------------------------------------------
# nikhilvyas/SOAP soap.py @ f42d296 (transcribed; float64 kept, see above).

class SOAP(optim.Optimizer):
    def __init__(self, params, lr=3e-3, betas=(0.95, 0.95), shampoo_beta=-1, eps=1e-8, weight_decay=0.01,
                 precondition_frequency=10, max_precond_dim=10000, merge_dims=False, precondition_1d=False,
                 normalize_grads=False, data_format='channels_first', correct_bias=True):
        defaults = {
            'lr': lr, 'betas': betas, 'shampoo_beta': shampoo_beta, 'eps': eps, 'weight_decay': weight_decay,
            'precondition_frequency': precondition_frequency, 'max_precond_dim': max_precond_dim,
            'merge_dims': merge_dims, 'precondition_1d': precondition_1d, 'normalize_grads': normalize_grads,
            'correct_bias': correct_bias,
        }
        super().__init__(params, defaults)
        self._data_format = data_format

    def merge_dims(self, grad, max_precond_dim):
        assert self._data_format in ['channels_first', 'channels_last']
        if self._data_format == 'channels_last' and grad.dim() == 4:
            grad = grad.permute(0, 3, 1, 2)
        shape = grad.shape
        new_shape = []
        curr_shape = 1
        for sh in shape:
            temp_shape = curr_shape * sh
            if temp_shape > max_precond_dim:
                if curr_shape > 1:
                    new_shape.append(curr_shape)
                    curr_shape = sh
                else:
                    new_shape.append(sh)
                    curr_shape = 1
            else:
                curr_shape = temp_shape
        if curr_shape > 1 or len(new_shape) == 0:
            new_shape.append(curr_shape)
        return grad.reshape(new_shape)

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group['params']:
                if p.grad is None:
                    continue
                grad = p.grad
                state = self.state[p]
                if 'step' not in state:
                    state['step'] = 0
                if 'exp_avg' not in state:
                    state['exp_avg'] = torch.zeros_like(grad)
                    state['exp_avg_sq'] = torch.zeros_like(grad)
                if 'Q' not in state:
                    self.init_preconditioner(
                        grad, state,
                        precondition_frequency=group['precondition_frequency'],
                        precondition_1d=group['precondition_1d'],
                        shampoo_beta=(group['shampoo_beta'] if group['shampoo_beta'] >= 0 else group['betas'][1]),
                        max_precond_dim=group['max_precond_dim'],
                        merge_dims=group['merge_dims'],
                    )
                    self.update_preconditioner(grad, state, max_precond_dim=group['max_precond_dim'],
                                               merge_dims=group['merge_dims'],
                                               precondition_1d=group['precondition_1d'])
                    continue  # first step is skipped so that we never use the current gradients in the projection.

                grad_projected = self.project(grad, state, merge_dims=group['merge_dims'],
                                              max_precond_dim=group['max_precond_dim'])
                exp_avg, exp_avg_sq = state['exp_avg'], state['exp_avg_sq']
                beta1, beta2 = group['betas']
                state['step'] += 1
                exp_avg.mul_(beta1).add_(grad_projected, alpha=(1.0 - beta1))
                exp_avg_sq.mul_(beta2).add_(grad_projected.square(), alpha=(1.0 - beta2))
                denom = exp_avg_sq.sqrt().add_(group['eps'])
                exp_avg_projected = exp_avg
                step_size = group['lr']
                if group['correct_bias']:
                    bias_correction1 = 1.0 - beta1 ** (state['step'])
                    bias_correction2 = 1.0 - beta2 ** (state['step'])
                    step_size = step_size * (bias_correction2 ** .5) / bias_correction1
                norm_grad = self.project_back(exp_avg_projected / denom, state, merge_dims=group['merge_dims'],
                                              max_precond_dim=group['max_precond_dim'])
                if group['normalize_grads']:
                    norm_grad = norm_grad / (1e-30 + torch.mean(norm_grad ** 2) ** 0.5)
                p.add_(norm_grad, alpha=-step_size)
                if group['weight_decay'] > 0.0:
                    p.add_(p, alpha=(-group['lr'] * group['weight_decay']))
                self.update_preconditioner(grad, state, max_precond_dim=group['max_precond_dim'],
                                           merge_dims=group['merge_dims'],
                                           precondition_1d=group['precondition_1d'])

    def init_preconditioner(self, grad, state, precondition_frequency=10, shampoo_beta=0.95, max_precond_dim=10000,
                            precondition_1d=False, merge_dims=False):
        state['GG'] = []
        if grad.dim() == 1:
            if not precondition_1d or grad.shape[0] > max_precond_dim:
                state['GG'].append([])
            else:
                state['GG'].append(torch.zeros(grad.shape[0], grad.shape[0], device=grad.device))
        else:
            if merge_dims:
                grad = self.merge_dims(grad, max_precond_dim)
            for sh in grad.shape:
                if sh > max_precond_dim:
                    state['GG'].append([])
                else:
                    state['GG'].append(torch.zeros(sh, sh, device=grad.device))
        state['Q'] = None
        state['precondition_frequency'] = precondition_frequency
        state['shampoo_beta'] = shampoo_beta

    def project(self, grad, state, merge_dims=False, max_precond_dim=10000):
        original_shape = grad.shape
        if merge_dims:
            if grad.dim() == 4 and self._data_format == 'channels_last':
                permuted_shape = grad.permute(0, 3, 1, 2).shape
            grad = self.merge_dims(grad, max_precond_dim)
        for mat in state['Q']:
            if len(mat) > 0:
                grad = torch.tensordot(grad, mat, dims=[[0], [0]])
            else:
                permute_order = list(range(1, len(grad.shape))) + [0]
                grad = grad.permute(permute_order)
        if merge_dims:
            if self._data_format == 'channels_last' and len(original_shape) == 4:
                grad = grad.reshape(permuted_shape).permute(0, 2, 3, 1)
            else:
                grad = grad.reshape(original_shape)
        return grad

    def update_preconditioner(self, grad, state, max_precond_dim=10000, merge_dims=False, precondition_1d=False):
        if state['Q'] is not None:
            state['exp_avg'] = self.project_back(state['exp_avg'], state, merge_dims=merge_dims,
                                                 max_precond_dim=max_precond_dim)
        if grad.dim() == 1:
            if precondition_1d and grad.shape[0] <= max_precond_dim:
                state['GG'][0].lerp_(grad.unsqueeze(1) @ grad.unsqueeze(0), 1 - state['shampoo_beta'])
        else:
            if merge_dims:
                new_grad = self.merge_dims(grad, max_precond_dim)
                for idx, sh in enumerate(new_grad.shape):
                    if sh <= max_precond_dim:
                        outer_product = torch.tensordot(
                            new_grad, new_grad,
                            dims=[[*chain(range(idx), range(idx + 1, len(new_grad.shape)))]] * 2)
                        state['GG'][idx].lerp_(outer_product, 1 - state['shampoo_beta'])
            else:
                for idx, sh in enumerate(grad.shape):
                    if sh <= max_precond_dim:
                        outer_product = torch.tensordot(
                            grad, grad, dims=[[*chain(range(idx), range(idx + 1, len(grad.shape)))]] * 2)
                        state['GG'][idx].lerp_(outer_product, 1 - state['shampoo_beta'])
        if state['Q'] is None:
            state['Q'] = self.get_orthogonal_matrix(state['GG'])
        if state['step'] > 0 and state['step'] % state['precondition_frequency'] == 0:
            state['Q'] = self.get_orthogonal_matrix_QR(state, max_precond_dim, merge_dims)
        if state['step'] > 0:
            state['exp_avg'] = self.project(state['exp_avg'], state, merge_dims=merge_dims,
                                            max_precond_dim=max_precond_dim)

    def project_back(self, grad, state, merge_dims=False, max_precond_dim=10000):
        original_shape = grad.shape
        if merge_dims:
            if self._data_format == 'channels_last' and grad.dim() == 4:
                permuted_shape = grad.permute(0, 3, 1, 2).shape
            grad = self.merge_dims(grad, max_precond_dim)
        for mat in state['Q']:
            if len(mat) > 0:
                grad = torch.tensordot(grad, mat, dims=[[0], [1]])
            else:
                permute_order = list(range(1, len(grad.shape))) + [0]
                grad = grad.permute(permute_order)
        if merge_dims:
            if self._data_format == 'channels_last' and len(original_shape) == 4:
                grad = grad.reshape(permuted_shape).permute(0, 2, 3, 1)
            else:
                grad = grad.reshape(original_shape)
        return grad

    def get_orthogonal_matrix(self, mat):
        final = []
        for m in mat:  # upstream: m.data.float() first (float32), left out here
            if len(m) == 0:
                final.append([])
                continue
            _, Q = torch.linalg.eigh(m + 1e-30 * torch.eye(m.shape[0], device=m.device))
            Q = torch.flip(Q, [1])
            final.append(Q)
        return final

    def get_orthogonal_matrix_QR(self, state, max_precond_dim=10000, merge_dims=False):
        precond_list = state['GG']
        orth_list = state['Q']
        orig_shape = state['exp_avg_sq'].shape
        if self._data_format == 'channels_last' and len(orig_shape) == 4:
            permuted_shape = state['exp_avg_sq'].permute(0, 3, 1, 2).shape
        if merge_dims:
            exp_avg_sq = self.merge_dims(state['exp_avg_sq'], max_precond_dim)
        else:
            exp_avg_sq = state['exp_avg_sq']
        final = []
        for ind, (m, o) in enumerate(zip(precond_list, orth_list)):  # upstream: float32 copies, left out here
            if len(m) == 0:
                final.append([])
                continue
            est_eig = torch.diag(o.T @ m @ o)
            sort_idx = torch.argsort(est_eig, descending=True)
            exp_avg_sq = exp_avg_sq.index_select(ind, sort_idx)
            o = o[:, sort_idx]
            power_iter = m @ o
            Q, _ = torch.linalg.qr(power_iter)
            final.append(Q)
        if merge_dims:
            if self._data_format == 'channels_last' and len(orig_shape) == 4:
                exp_avg_sq = exp_avg_sq.reshape(permuted_shape).permute(0, 2, 3, 1)
            else:
                exp_avg_sq = exp_avg_sq.reshape(orig_shape)
        state['exp_avg_sq'] = exp_avg_sq
        return final


# --------------------------------------------------------------------------------------------------------
# Cases.

DEFAULTS = dict(lr=3e-3, betas=[0.95, 0.95], shampooBeta=-1, eps=1e-8, weightDecay=0.01, preconditionFrequency=10,
                maxPrecondDim=10000, mergeDims=False, precondition1d=False, normalizeGrads=False,
                dataFormat='channelsFirst', correctBias=True)

# w square; r [2, 3] (mode 1's statistic has a one-dimensional null space after the first step); t and k with every
# mode no longer than the product of the others; b a vector (plain Adam unless precondition1d); c a scalar.
SHAPES = [('w', [3, 3]), ('r', [2, 3]), ('t', [2, 3, 3]), ('k', [2, 2, 2, 2]), ('b', [2]), ('c', [])]
MISSING = {3: ['b'], 5: ['w', 'c'], 6: ['t']}


def case(name, description, options=None, *, groups=None, steps=12, seed=0, scale=1.0, missing=None):
    return dict(name=name, description=description, options=options or {}, groups=groups, steps=steps,
                seed=seed, scale=scale, missing=missing or {})


T = 'nikhilvyas/SOAP soap.py @ f42d296 (transcribed).'
CASES = [
    case('defaults', 'All defaults (lr 3e-3, betas (0.95, 0.95), weight decay 0.01, refresh every 10 Adam steps: '
         'step 11). ' + T, seed=1),
    case('frequency', 'lr 0.02, refresh every 3 Adam steps (steps 4, 7, 10, 13). ' + T,
         dict(lr=0.02, preconditionFrequency=3), steps=13, seed=2),
    case('betas-shampoo-beta', 'betas (0.9, 0.99), shampooBeta 0.8, weight decay 0.1, refresh every 2. ' + T,
         dict(lr=0.02, betas=[0.9, 0.99], shampooBeta=0.8, weightDecay=0.1, preconditionFrequency=2), seed=3),
    case('shampoo-beta-small', 'shampooBeta 0.3 (lerp weight 0.7: torch\'s other lerp branch), no weight decay, '
         'eps 1e-6, refresh every 4. ' + T,
         dict(lr=0.01, shampooBeta=0.3, weightDecay=0, eps=1e-6, preconditionFrequency=4), seed=4),
    case('normalize-no-bias-correction', 'normalizeGrads, correctBias false, refresh every 3. ' + T,
         dict(lr=0.01, normalizeGrads=True, correctBias=False, preconditionFrequency=3), seed=5),
    case('precondition-1d', 'precondition1d (b gets a 2 × 2 preconditioner), refresh every 3. ' + T,
         dict(lr=0.02, precondition1d=True, preconditionFrequency=3), seed=6),
    case('merge-dims', 'mergeDims with maxPrecondDim 4 (t [2,3,3] stays, k [2,2,2,2] becomes [4,4], c becomes [1]), '
         'refresh every 3. ' + T, dict(lr=0.02, mergeDims=True, maxPrecondDim=4, preconditionFrequency=3), seed=7),
    case('merge-dims-channels-last', 'mergeDims, maxPrecondDim 4, data_format channels_last (k is permuted to '
         '0, 3, 1, 2 before merging), refresh every 3. ' + T,
         dict(lr=0.02, mergeDims=True, maxPrecondDim=4, dataFormat='channelsLast', preconditionFrequency=3), seed=8),
    case('max-precond-dim', 'maxPrecondDim 2: modes of length 3 get no preconditioner (w is plain Adam), '
         'refresh every 3. ' + T, dict(lr=0.02, maxPrecondDim=2, preconditionFrequency=3), seed=9),
    case('groups', 'Param groups: w and t override lr, betas and the refresh frequency. ' + T,
         dict(lr=0.01, preconditionFrequency=4),
         groups=[dict(params=['w', 't'], options=dict(lr=0.03, betas=[0.9, 0.95], preconditionFrequency=2))],
         seed=10),
    case('missing-grads', 'Some steps have no gradient for some parameters (skipped, state untouched), refresh '
         'every 2. ' + T, dict(lr=0.02, preconditionFrequency=2), missing=MISSING, seed=11),
]


def floats(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def torch_kwargs(full):
    return dict(lr=full['lr'], betas=tuple(full['betas']), shampoo_beta=full['shampooBeta'], eps=full['eps'],
                weight_decay=full['weightDecay'], precondition_frequency=full['preconditionFrequency'],
                max_precond_dim=full['maxPrecondDim'], merge_dims=full['mergeDims'],
                precondition_1d=full['precondition1d'], normalize_grads=full['normalizeGrads'],
                correct_bias=full['correctBias'])


DATA_FORMAT = {'channelsFirst': 'channels_first', 'channelsLast': 'channels_last'}


def run_case(spec):
    gen = torch.Generator().manual_seed(3000 + spec['seed'])
    full = dict(DEFAULTS, **spec['options'])
    names = [n for n, _ in SHAPES]
    shapes = dict(SHAPES)
    params = {n: torch.nn.Parameter(torch.randn(shapes[n], generator=gen)) for n in names}
    initial = {n: floats(params[n]) for n in names}
    target = {n: torch.randn(shapes[n], generator=gen) for n in names}
    curve = {n: 0.5 + 1.5 * torch.rand(shapes[n], generator=gen) for n in names}

    torch_groups, grouped = [], set()
    for g in spec['groups'] or []:
        opts = dict(full, **g['options'])
        for n in g['params']:
            grouped.add(n)
        torch_groups.append(dict(params=[params[n] for n in g['params']], **torch_kwargs(opts)))
    rest = [params[n] for n in names if n not in grouped]
    if rest:
        torch_groups.insert(0, dict(params=rest, **torch_kwargs(full)))
    opt = SOAP(torch_groups, data_format=DATA_FORMAT[full['dataFormat']], **torch_kwargs(full))

    grads_out, steps_out = [], []
    updates = {n: 0 for n in names}
    for k in range(spec['steps']):
        step_grads = []
        for n in names:
            p = params[n]
            noise = torch.randn(shapes[n], generator=gen)
            if n in spec['missing'].get(k, []):
                p.grad = None
                step_grads.append(None)
                continue
            with torch.no_grad():
                g = (curve[n] * (p - target[n]) + 0.3 * noise) * spec['scale']
            step_grads.append(floats(g))
            updates[n] += 1
            p.grad = g.clone()
        opt.step()
        grads_out.append(step_grads)
        steps_out.append(dict(params=[floats(params[n]) for n in names]))

    state_out = {}
    for n in names:
        st = opt.state.get(params[n], {})
        if not st:
            continue
        if st['step'] != updates[n] - 1:
            sys.exit(f'{spec["name"]}: upstream step {st["step"]} != {updates[n]} updates of {n} minus one')
        slots = dict(expAvg=floats(st['exp_avg']), expAvgSq=floats(st['exp_avg_sq']))
        for i, (gg, q) in enumerate(zip(st['GG'], st['Q'])):
            if len(gg) == 0:
                continue
            slots[f'GG{i}'] = floats(gg)
            slots[f'Q{i}'] = floats(q)
        state_out[n] = dict(step=updates[n], scalars={}, slots=slots)

    fixture = dict(description=spec['description'] + ' float64, ATEN_CPU_CAPABILITY=default.',
                   generator=GENERATOR, optimizer='soap', options=spec['options'])
    if spec['groups']:
        fixture['groups'] = [dict(params=g['params'], options=g['options']) for g in spec['groups']]
    fixture['params'] = [dict(name=n, shape=shapes[n], data=initial[n]) for n in names]
    fixture['grads'] = grads_out
    fixture['expected'] = dict(steps=steps_out, state=state_out)
    return fixture


def main():
    write_fixtures(OUT, ROOT, CASES, run_case)


if __name__ == '__main__':
    main()

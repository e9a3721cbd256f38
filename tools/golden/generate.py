#!/usr/bin/python3
"""Golden float64 trajectories of torch.optim for the descent Float64 reference.

Run with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 tools/golden/generate.py

It writes one JSON file per case to packages/core/test/fixtures/torch/<optimizer>/<case>.json in the
`descent replay` input format (optimizer, options, groups, params, grads) plus metadata (description,
generator) and the expected trajectory: every parameter after every step and the final state of every
parameter. packages/core/test/golden-torch.test.ts replays each file through the reference.

How the trajectories are made
-----------------------------
* torch.set_default_dtype(torch.float64); every tensor is float64, the seeds are fixed, so the output is
  deterministic.
* Gradients are those of a noisy quadratic  f(θ) = ½ Σ a (θ − c)²  (a in [0.5, 2], random targets c,
  Gaussian noise) evaluated at torch's current parameters; they are recorded exactly in the fixture, so the
  replay does not depend on this model. "tiny" cases scale the gradients by 1e-8; some cases put exact zeros
  in the gradient; maximize cases use the gradient of the concave −f, so that ascent converges.
* A `null` gradient means p.grad = None for that step: torch skips the parameter (its state and step count
  stay untouched), and so must the reference.
* The single-tensor (for-loop) implementation is used (foreach=False), the readable one.
* PyTorch's AVX2/AVX-512 CPU kernels fuse `a + α·b` (add with alpha, addcmul, lerp) into one FMA, which
  rounds once where the JavaScript reference rounds twice. The difference is invisible except where the sum
  cancels, and there it exceeds any fixed relative tolerance. This script therefore sets
  ATEN_CPU_CAPABILITY=default before importing torch, so that ATen dispatches to its portable kernels, which
  round every operation (one IEEE-754 double rounding per + − × ÷ √). The algorithm, operation order and
  constants are PyTorch's own; only the fusion is off. The script refuses to run if the variable did not
  take effect.

Emulated PyTorch 2.x behaviour (PyTorch 1.13 lacks it; the design follows torch.optim 2.x)
-------------------------------------------------------------------------------------------
Each emulation was checked against the 2.x source of torch/optim/{nadam,radam}.py (_single_tensor_*):
* NAdam/RAdam `maximize` (2.x: `grad = -grads[i]` first thing): the gradient handed to torch is negated.
  Negation is exact, so this is the 2.x computation bit for bit.
* NAdam/RAdam `decoupled_weight_decay` (2.x: `param.mul_(1 - lr * weight_decay)` before the moments, and no
  L2 term): the parameters that have a gradient this step are multiplied by (1 − lr·wd) just before
  torch's step, and torch runs with weight_decay=0. Nothing else in the 2.x step reads the parameter before
  the final update, so the result is identical.
* NAdam's μ-product: PyTorch 1.13 computes `mu_product_next = mu_product * mu * mu_next` after
  `mu_product *= mu` (μ_t counted twice). PyTorch 2.x fixed this to `mu_product * mu_next`
  (= Π_{i≤t+1} μ_i, as documented). This script replaces 1.13's `torch.optim.nadam._single_tensor_nadam`
  with 1.13's own function with only that line changed, so the recorded NAdam is 2.x's.
* The defaults are 2.x's (notably SGD's lr, which 1.13 requires and 2.x defaults to 1e-3).
Remaining 1.13/2.x differences are rounding-only: 2.x updates the first moment with
`exp_avg.lerp_(grad, 1 − β₁)` (and RMSprop's centered grad_avg with lerp) where 1.13 uses
`mul_(β₁).add_(grad, alpha=1 − β₁)`; the reference follows the latter formula, as the fixtures do.
"""

import os

# Must precede `import torch` (see the module docstring): portable kernels, no FMA contraction.
os.environ['ATEN_CPU_CAPABILITY'] = 'default'

import json  # noqa: E402
import math  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402
from common import check_all_finite  # noqa: E402
import torch.optim.nadam as torch_nadam  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / 'packages' / 'core' / 'test' / 'fixtures' / 'torch'
GENERATOR = f'tools/golden/generate.py, PyTorch {torch.__version__}'
KERNEL_NOTE = ('Recorded with PyTorch\'s portable CPU kernels (ATEN_CPU_CAPABILITY=default: one IEEE-754 '
               'rounding per operation, no FMA), single-tensor implementation, float64.')

# --------------------------------------------------------------------------------------------------------
# Options: descent's camelCase names, torch's snake_case names, PyTorch 2.x defaults.

DEFAULTS = {
    'sgd': dict(lr=1e-3, momentum=0.0, dampening=0.0, weightDecay=0.0, nesterov=False, maximize=False),
    'adagrad': dict(lr=1e-2, lrDecay=0.0, weightDecay=0.0, initialAccumulatorValue=0.0, eps=1e-10, maximize=False),
    'adadelta': dict(lr=1.0, rho=0.9, eps=1e-6, weightDecay=0.0, maximize=False),
    'rmsprop': dict(lr=1e-2, alpha=0.99, eps=1e-8, weightDecay=0.0, momentum=0.0, centered=False, maximize=False),
    'adam': dict(lr=1e-3, betas=[0.9, 0.999], eps=1e-8, weightDecay=0.0, amsgrad=False, maximize=False),
    'adamw': dict(lr=1e-3, betas=[0.9, 0.999], eps=1e-8, weightDecay=1e-2, amsgrad=False, maximize=False),
    'adamax': dict(lr=2e-3, betas=[0.9, 0.999], eps=1e-8, weightDecay=0.0, maximize=False),
    'nadam': dict(lr=2e-3, betas=[0.9, 0.999], eps=1e-8, weightDecay=0.0, momentumDecay=4e-3,
                  decoupledWeightDecay=False, maximize=False),
    'radam': dict(lr=1e-3, betas=[0.9, 0.999], eps=1e-8, weightDecay=0.0, decoupledWeightDecay=False, maximize=False),
    'rprop': dict(lr=1e-2, etas=[0.5, 1.2], stepSizes=[1e-6, 50.0], maximize=False),
}

TORCH_CLASS = {
    'sgd': torch.optim.SGD, 'adagrad': torch.optim.Adagrad, 'adadelta': torch.optim.Adadelta,
    'rmsprop': torch.optim.RMSprop, 'adam': torch.optim.Adam, 'adamw': torch.optim.AdamW,
    'adamax': torch.optim.Adamax, 'nadam': torch.optim.NAdam, 'radam': torch.optim.RAdam,
    'rprop': torch.optim.Rprop,
}

# Options PyTorch 1.13 lacks; emulated as described in the module docstring.
EMULATED = {'nadam': {'decoupledWeightDecay', 'maximize'}, 'radam': {'decoupledWeightDecay', 'maximize'}}

STATE_SLOTS = {  # torch state key -> descent slot name (tensors); 'step' and scalars handled apart
    'momentum_buffer': 'momentumBuffer', 'sum': 'sum', 'square_avg': 'squareAvg', 'acc_delta': 'accDelta',
    'grad_avg': 'gradAvg', 'exp_avg': 'expAvg', 'exp_avg_sq': 'expAvgSq', 'max_exp_avg_sq': 'maxExpAvgSq',
    'exp_inf': 'expInf', 'prev': 'prev', 'step_size': 'stepSize',
}
STATE_SCALARS = {'mu_product': 'muProduct'}


def snake(name):
    return ''.join('_' + c.lower() if c.isupper() else c for c in name)


def torch_kwargs(optimizer, full):
    """Full camelCase options -> torch keyword arguments, minus the emulated ones."""
    out = {}
    for key, value in full.items():
        if key in EMULATED.get(optimizer, ()):
            continue
        if key == 'weightDecay' and full.get('decoupledWeightDecay'):
            value = 0.0  # applied by hand (decoupled)
        out[snake(key)] = tuple(value) if isinstance(value, list) else value
    out['foreach'] = False
    return out


# --------------------------------------------------------------------------------------------------------
# NAdam with 2.x's μ-product (see the docstring): 1.13's _single_tensor_nadam, one line changed.

def _single_tensor_nadam_2x(params, grads, exp_avgs, exp_avg_sqs, mu_products, state_steps, *,
                            beta1, beta2, lr, weight_decay, momentum_decay, eps):
    for i, param in enumerate(params):
        grad = grads[i]
        exp_avg = exp_avgs[i]
        exp_avg_sq = exp_avg_sqs[i]
        mu_product = mu_products[i]
        step_t = state_steps[i]
        step_t += 1
        step = step_t.item()

        bias_correction2 = 1 - beta2 ** step

        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)

        mu = beta1 * (1. - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1. - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))

        mu_product *= mu
        mu_product_next = mu_product.item() * mu_next  # 2.x; 1.13 had `mu_product * mu * mu_next`

        exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)

        denom = exp_avg_sq.div(bias_correction2).sqrt().add_(eps)
        param.addcdiv_(grad, denom, value=-lr * (1. - mu) / (1. - mu_product.item()))
        param.addcdiv_(exp_avg, denom, value=-lr * mu_next / (1. - mu_product_next))


torch_nadam._single_tensor_nadam = _single_tensor_nadam_2x


# --------------------------------------------------------------------------------------------------------
# Cases.

SHAPES = [('w', [3, 4]), ('b', [5]), ('s', [1]), ('t', [2, 3, 2])]
SMALL = [('w', [5]), ('s', [1])]


def case(name, description, options=None, *, groups=None, params=SHAPES, steps=12, seed=0, scale=1.0,
         noise=0.3, missing=None, zeros=False):
    return dict(name=name, description=description, options=options or {}, groups=groups, params=params,
                steps=steps, seed=seed, scale=scale, noise=noise, missing=missing or {}, zeros=zeros)


MISSING = {2: ['b'], 5: ['w', 's'], 6: ['w'], 9: ['t']}  # step index (0-based) -> params with grad None
MISSING_DESC = 'Some steps have no gradient for some parameters (grad None: torch skips them, state untouched).'
TINY_DESC = '300 steps with tiny gradients (~1e-8).'


def tiny(options, seed, desc=TINY_DESC):
    return case('tiny-300', desc, options, params=SMALL, steps=300, seed=seed, scale=1e-8)


CASES = {
    'sgd': [
        case('defaults', 'All defaults (lr 1e-3, the PyTorch 2.x default).', {}, seed=1),
        case('plain', 'Plain SGD.', dict(lr=0.1), seed=2),
        case('momentum', 'Heavy-ball momentum.', dict(lr=0.05, momentum=0.9), seed=3),
        case('dampening', 'Momentum with dampening.', dict(lr=0.05, momentum=0.8, dampening=0.5), seed=4),
        case('nesterov', 'Nesterov momentum.', dict(lr=0.05, momentum=0.9, nesterov=True), seed=5),
        case('weight-decay', 'L2 weight decay with momentum.', dict(lr=0.05, momentum=0.9, weightDecay=0.1), seed=6),
        case('maximize', 'maximize with momentum, dampening and weight decay.',
             dict(lr=0.05, momentum=0.7, dampening=0.1, weightDecay=0.05, maximize=True), seed=7),
        case('groups', 'Param groups: b and s override lr, momentum, nesterov and weight decay.',
             dict(lr=0.05, momentum=0.9),
             groups=[dict(params=['b', 's'], options=dict(lr=0.2, nesterov=True, weightDecay=0.1))], seed=8),
        case('missing-grads', MISSING_DESC, dict(lr=0.05, momentum=0.9, weightDecay=0.01), seed=9, missing=MISSING),
        case('zero-grads', 'Gradients with exact zeros (element-wise).', dict(lr=0.1, momentum=0.5), seed=10,
             zeros=True),
        tiny(dict(lr=0.01, momentum=0.9, nesterov=True, weightDecay=1e-4), seed=11),
    ],
    'adagrad': [
        case('defaults', 'All defaults.', {}, seed=21),
        case('lr-decay', 'Learning-rate decay.', dict(lr=0.1, lrDecay=0.05), seed=22),
        case('weight-decay', 'L2 weight decay.', dict(lr=0.1, weightDecay=0.1), seed=23),
        case('initial-accumulator', 'Non-zero initial accumulator and a larger eps.',
             dict(lr=0.1, initialAccumulatorValue=0.5, eps=1e-3), seed=24),
        case('maximize', 'maximize with weight decay and lr decay.',
             dict(lr=0.1, maximize=True, weightDecay=0.05, lrDecay=0.01), seed=25),
        # Not initialAccumulatorValue per group: torch fills every `sum` from the constructor's value and
        # ignores a group's own (1.13 and 2.x alike), where descent honours the group's.
        case('groups', 'Param groups: b overrides lr, lr decay, weight decay and eps.',
             dict(lr=0.1, initialAccumulatorValue=0.1),
             groups=[dict(params=['b'], options=dict(lr=0.3, lrDecay=0.1, weightDecay=0.05, eps=1e-6))], seed=26),
        case('missing-grads', MISSING_DESC, dict(lr=0.1, lrDecay=0.02), seed=27, missing=MISSING),
        case('zero-grads', 'Gradients with exact zeros (element-wise).', dict(lr=0.1), seed=28, zeros=True),
        tiny(dict(lr=0.01), seed=29),
    ],
    'adadelta': [
        case('defaults', 'All defaults (lr 1).', {}, seed=31),
        case('rho-eps', 'Other rho and eps.', dict(lr=0.5, rho=0.95, eps=1e-4), seed=32),
        case('weight-decay', 'L2 weight decay.', dict(lr=1.0, weightDecay=0.1), seed=33),
        case('maximize', 'maximize with weight decay.', dict(lr=1.0, maximize=True, weightDecay=0.05), seed=34),
        case('groups', 'Param groups: b and t override lr, rho and eps.', dict(lr=1.0),
             groups=[dict(params=['b', 't'], options=dict(lr=2.0, rho=0.5, eps=1e-3))], seed=35),
        case('missing-grads', MISSING_DESC, dict(lr=1.0), seed=36, missing=MISSING),
        case('zero-grads', 'Gradients with exact zeros (element-wise).', dict(lr=1.0), seed=37, zeros=True),
        tiny(dict(lr=1.0, eps=1e-9), seed=38),
    ],
    'rmsprop': [
        case('defaults', 'All defaults.', {}, seed=41),
        case('alpha-eps', 'Other alpha and eps.', dict(lr=0.01, alpha=0.9, eps=1e-4), seed=42),
        case('centered', 'Centered (gradAvg).', dict(lr=0.01, centered=True), seed=43),
        case('momentum', 'Momentum buffer.', dict(lr=0.01, momentum=0.9), seed=44),
        case('centered-momentum', 'Centered with momentum and weight decay.',
             dict(lr=0.01, centered=True, momentum=0.8, weightDecay=0.1), seed=45),
        case('maximize', 'maximize with momentum and weight decay.',
             dict(lr=0.01, maximize=True, momentum=0.5, weightDecay=0.05), seed=46),
        case('groups', 'Param groups: w overrides centered, momentum, alpha and lr.', dict(lr=0.01),
             groups=[dict(params=['w'], options=dict(lr=0.02, centered=True, momentum=0.9, alpha=0.95))], seed=47),
        case('missing-grads', MISSING_DESC, dict(lr=0.01, centered=True, momentum=0.9), seed=48, missing=MISSING),
        case('zero-grads', 'Gradients with exact zeros (element-wise).', dict(lr=0.01, momentum=0.9), seed=49,
             zeros=True),
        tiny(dict(lr=0.001, centered=True, momentum=0.9), seed=50),
    ],
    'adam': [
        case('defaults', 'All defaults.', {}, seed=51),
        case('lr-betas', 'Larger lr, other betas.', dict(lr=0.05, betas=[0.8, 0.99]), seed=52),
        case('amsgrad', 'AMSGrad (maxExpAvgSq).', dict(lr=0.05, amsgrad=True), seed=53),
        case('weight-decay', 'L2 weight decay.', dict(lr=0.05, weightDecay=0.1), seed=54),
        case('maximize', 'maximize with AMSGrad and weight decay.',
             dict(lr=0.05, maximize=True, amsgrad=True, weightDecay=0.05), seed=55),
        case('eps', 'A large eps.', dict(lr=0.05, eps=0.1), seed=56),
        case('groups', 'Param groups: b and s override lr, betas, amsgrad and weight decay.', dict(lr=0.05),
             groups=[dict(params=['b', 's'], options=dict(lr=0.01, betas=[0.5, 0.9], amsgrad=True, weightDecay=0.1))],
             seed=57),
        case('missing-grads', MISSING_DESC, dict(lr=0.05, amsgrad=True), seed=58, missing=MISSING),
        case('zero-grads', 'Gradients with exact zeros (element-wise).', dict(lr=0.05), seed=59, zeros=True),
        tiny(dict(lr=1e-3), seed=60),
        tiny(dict(lr=1e-3, amsgrad=True, weightDecay=1e-2), seed=61,
             desc=TINY_DESC + ' AMSGrad and weight decay.') | dict(name='tiny-300-amsgrad'),
    ],
    'adamw': [
        case('defaults', 'All defaults (weight decay 1e-2).', {}, seed=71),
        case('lr-betas', 'Larger lr, other betas.', dict(lr=0.05, betas=[0.8, 0.99]), seed=72),
        case('amsgrad', 'AMSGrad (maxExpAvgSq).', dict(lr=0.05, amsgrad=True), seed=73),
        case('weight-decay', 'Strong decoupled weight decay.', dict(lr=0.05, weightDecay=0.5), seed=74),
        case('no-weight-decay', 'Weight decay 0 (AdamW = Adam).', dict(lr=0.05, weightDecay=0.0), seed=75),
        case('maximize', 'maximize with AMSGrad.', dict(lr=0.05, maximize=True, amsgrad=True), seed=76),
        case('eps', 'A large eps.', dict(lr=0.05, eps=0.1), seed=77),
        case('groups', 'Param groups: w overrides lr, weight decay and amsgrad.', dict(lr=0.05),
             groups=[dict(params=['w'], options=dict(lr=0.02, weightDecay=0.3, amsgrad=True))], seed=78),
        case('missing-grads', MISSING_DESC, dict(lr=0.05, weightDecay=0.1), seed=79, missing=MISSING),
        tiny(dict(lr=1e-3), seed=80),
    ],
    'adamax': [
        case('defaults', 'All defaults.', {}, seed=81),
        case('lr-betas', 'Larger lr, other betas.', dict(lr=0.05, betas=[0.8, 0.9]), seed=82),
        case('weight-decay', 'L2 weight decay.', dict(lr=0.05, weightDecay=0.1), seed=83),
        case('maximize', 'maximize with weight decay.', dict(lr=0.05, maximize=True, weightDecay=0.05), seed=84),
        case('eps', 'A large eps (it is added to |g| inside the max).', dict(lr=0.05, eps=0.5), seed=85),
        case('groups', 'Param groups: b overrides lr, betas and eps.', dict(lr=0.05),
             groups=[dict(params=['b'], options=dict(lr=0.1, betas=[0.5, 0.5], eps=1e-3))], seed=86),
        case('missing-grads', MISSING_DESC, dict(lr=0.05), seed=87, missing=MISSING),
        case('zero-grads', 'Gradients with exact zeros (element-wise).', dict(lr=0.05), seed=88, zeros=True),
        tiny(dict(lr=2e-3), seed=89),
    ],
    'nadam': [
        case('defaults', 'All defaults.', {}, seed=91),
        case('lr-betas', 'Larger lr, other betas.', dict(lr=0.05, betas=[0.8, 0.99]), seed=92),
        case('momentum-decay', 'Larger momentum decay.', dict(lr=0.05, momentumDecay=0.05), seed=93),
        case('weight-decay', 'L2 weight decay (coupled).', dict(lr=0.05, weightDecay=0.1), seed=94),
        case('decoupled', 'Decoupled weight decay (NAdamW; PyTorch 2.x decoupled_weight_decay, emulated).',
             dict(lr=0.05, weightDecay=0.1, decoupledWeightDecay=True), seed=95),
        case('maximize', 'maximize with L2 weight decay (PyTorch 2.x maximize, emulated).',
             dict(lr=0.05, maximize=True, weightDecay=0.05), seed=96),
        case('maximize-decoupled', 'maximize with decoupled weight decay (both emulated as in PyTorch 2.x).',
             dict(lr=0.05, maximize=True, weightDecay=0.05, decoupledWeightDecay=True), seed=97),
        case('eps', 'A large eps.', dict(lr=0.05, eps=0.1), seed=98),
        case('groups', 'Param groups: b decoupled with other lr and momentum decay, the rest coupled L2.',
             dict(lr=0.05, weightDecay=0.1),
             groups=[dict(params=['b'], options=dict(lr=0.02, decoupledWeightDecay=True, momentumDecay=0.01))],
             seed=99),
        case('missing-grads', MISSING_DESC, dict(lr=0.05), seed=100, missing=MISSING),
        tiny(dict(lr=2e-3), seed=101),
    ],
    'radam': [
        case('defaults', 'All defaults (20 steps: the rectified branch starts at step 6).', {}, seed=111, steps=20),
        case('lr-betas', 'Larger lr, beta2 0.99.', dict(lr=0.05, betas=[0.8, 0.99]), seed=112, steps=15),
        case('weight-decay', 'L2 weight decay (coupled).', dict(lr=0.05, weightDecay=0.1), seed=113, steps=15),
        case('decoupled', 'Decoupled weight decay (RAdamW; PyTorch 2.x decoupled_weight_decay, emulated).',
             dict(lr=0.05, weightDecay=0.1, decoupledWeightDecay=True), seed=114, steps=15),
        case('maximize', 'maximize with L2 weight decay (PyTorch 2.x maximize, emulated).',
             dict(lr=0.05, maximize=True, weightDecay=0.05), seed=115, steps=15),
        case('maximize-decoupled', 'maximize with decoupled weight decay (both emulated as in PyTorch 2.x).',
             dict(lr=0.05, maximize=True, weightDecay=0.05, decoupledWeightDecay=True), seed=116, steps=15),
        case('eps', 'A large eps.', dict(lr=0.05, eps=0.1), seed=117, steps=15),
        case('groups', 'Param groups: w decoupled with beta2 0.9 (rectified from step 6), the rest coupled L2.',
             dict(lr=0.05, weightDecay=0.1),
             groups=[dict(params=['w'], options=dict(lr=0.02, betas=[0.9, 0.9], decoupledWeightDecay=True))],
             seed=118, steps=15),
        case('missing-grads', MISSING_DESC, dict(lr=0.05), seed=119, missing=MISSING, steps=15),
        tiny(dict(lr=1e-3), seed=120),
    ],
    'rprop': [
        case('defaults', 'All defaults.', {}, seed=121),
        case('etas', 'Other etas and lr.', dict(lr=0.05, etas=[0.3, 1.5]), seed=122),
        case('step-sizes', 'Tight step-size bounds (both clamps reached).',
             dict(lr=0.02, stepSizes=[0.01, 0.04]), seed=123, steps=15),
        case('maximize', 'maximize.', dict(lr=0.05, maximize=True), seed=124),
        case('groups', 'Param groups: b and s override lr, etas and step sizes.', dict(lr=0.05),
             groups=[dict(params=['b', 's'], options=dict(lr=0.1, etas=[0.4, 1.1], stepSizes=[0.02, 0.2]))],
             seed=125),
        case('missing-grads', MISSING_DESC, dict(lr=0.05), seed=126, missing=MISSING),
        case('zero-grads', 'Gradients with exact zeros (sign 0: step size kept, no move).', dict(lr=0.05),
             seed=127, zeros=True),
        tiny(dict(lr=0.01), seed=128),
        case('underflow', 'Gradients ~1e-170: g·prev underflows to 0, which torch treats as sign 0 '
             '(step size kept, the parameter still moves by sign(g)).', dict(lr=0.05), params=SMALL,
             steps=12, seed=129, scale=1e-170),
    ],
}


# --------------------------------------------------------------------------------------------------------
# Running one case.

def floats(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def run_case(optimizer, spec):
    gen = torch.Generator().manual_seed(1000 + spec['seed'])
    full = dict(DEFAULTS[optimizer], **spec['options'])
    names = [n for n, _ in spec['params']]
    shapes = dict(spec['params'])

    params = {n: torch.nn.Parameter(torch.randn(shapes[n], generator=gen)) for n in names}
    initial = {n: floats(params[n]) for n in names}
    target = {n: torch.randn(shapes[n], generator=gen) for n in names}
    curve = {n: 0.5 + 1.5 * torch.rand(shapes[n], generator=gen) for n in names}

    # Groups: torch gets one dict per group; the parameters no user group names form the default group.
    group_opts = {n: full for n in names}
    torch_groups = []
    grouped = set()
    for g in spec['groups'] or []:
        opts = dict(full, **g['options'])
        for n in g['params']:
            group_opts[n] = opts
            grouped.add(n)
        torch_groups.append(dict(params=[params[n] for n in g['params']], **torch_kwargs(optimizer, opts)))
    rest = [params[n] for n in names if n not in grouped]
    if rest:
        torch_groups.insert(0, dict(params=rest, **torch_kwargs(optimizer, full)))
    # The constructor's keyword arguments are the defaults of every group (and Adagrad's initial accumulator).
    opt = TORCH_CLASS[optimizer](torch_groups, **torch_kwargs(optimizer, full))

    grads_out, steps_out = [], []
    updates = {n: 0 for n in names}
    for k in range(spec['steps']):
        step_grads = []
        for n in names:
            p = params[n]
            noise = torch.randn(shapes[n], generator=gen)
            mask = (torch.rand(shapes[n], generator=gen) < 0.3) if spec['zeros'] else None
            if n in spec['missing'].get(k, []):
                p.grad = None
                step_grads.append(None)
                continue
            with torch.no_grad():
                g = curve[n] * (p - target[n]) + spec['noise'] * noise
                if group_opts[n]['maximize']:
                    g = -g  # gradient of the concave −f: ascent converges
                g = g * spec['scale']
                if mask is not None:
                    g[mask] = 0.0
            step_grads.append(floats(g))
            updates[n] += 1
            # Emulated 2.x options (see the docstring): maximize negates the gradient torch sees ...
            emulated = optimizer in EMULATED
            p.grad = -g.clone() if emulated and group_opts[n]['maximize'] else g.clone()
            # ... and decoupled weight decay scales the parameter just before torch's step.
            o = group_opts[n]
            if emulated and o['decoupledWeightDecay'] and o['weightDecay'] != 0:
                with torch.no_grad():
                    p.mul_(1 - o['lr'] * o['weightDecay'])
        opt.step()
        grads_out.append(step_grads)
        steps_out.append(dict(params=[floats(params[n]) for n in names]))

    state_out = {}
    for n in names:
        st = opt.state.get(params[n], {})
        if not st or updates[n] == 0:
            continue
        slots, scalars = {}, {}
        for key, value in st.items():
            if key == 'step':
                torch_step = float(value)
                if torch_step != updates[n]:
                    sys.exit(f'{optimizer}/{spec["name"]}: torch step {torch_step} != {updates[n]} updates of {n}')
            elif key in STATE_SCALARS:
                scalars[STATE_SCALARS[key]] = float(value)
            elif key in STATE_SLOTS:
                if value is None:  # SGD keeps momentum_buffer = None without momentum
                    continue
                slots[STATE_SLOTS[key]] = floats(value)
            else:
                sys.exit(f'{optimizer}/{spec["name"]}: unexpected torch state key {key!r}')
        state_out[n] = dict(step=updates[n], scalars=scalars, slots=slots)

    description = spec['description']
    emulated = sorted(k for k in EMULATED.get(optimizer, ()) if any(o[k] for o in group_opts.values()))
    if optimizer == 'nadam':
        description += (' NAdam as in PyTorch 2.x: mu_product_next = mu_product·mu_next (1.13 multiplied by mu '
                        'twice); the kernel is patched.')
    if emulated:
        description += (' PyTorch 1.13 lacks ' + ' and '.join(emulated) + ': emulated exactly as 2.x defines it'
                        ' (maximize: the gradient is negated; decoupled: the parameter is multiplied by'
                        ' 1 − lr·weightDecay before the step and torch runs with weight_decay=0).')
    description += ' ' + KERNEL_NOTE

    fixture = dict(
        description=description,
        generator=GENERATOR,
        optimizer=optimizer,
        options=spec['options'],
    )
    if spec['groups']:
        fixture['groups'] = [dict(params=g['params'], options=g['options']) for g in spec['groups']]
    fixture['params'] = [dict(name=n, shape=shapes[n], data=initial[n]) for n in names]
    fixture['grads'] = grads_out
    fixture['expected'] = dict(steps=steps_out, state=state_out)
    return fixture


def main():
    config = torch.__config__.show()
    if 'CPU capability usage: NO AVX' not in config and 'CPU capability usage: DEFAULT' not in config:
        sys.exit('ATEN_CPU_CAPABILITY=default did not take effect; refusing to record FMA-fused trajectories')
    if not torch.__version__.startswith('1.13'):
        print(f'warning: written for PyTorch 1.13 (the emulations assume its torch.optim); found {torch.__version__}',
              file=sys.stderr)
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)

    if OUT.exists():
        shutil.rmtree(OUT)
    total = 0
    for optimizer, cases in CASES.items():
        names = [c['name'] for c in cases]
        assert len(set(names)) == len(names), f'duplicate case name in {optimizer}'
        for spec in cases:
            fixture = run_case(optimizer, spec)
            check_all_finite(fixture, f'{optimizer}/{spec["name"]}')
            path = OUT / optimizer / f'{spec["name"]}.json'
            path.parent.mkdir(parents=True, exist_ok=True)
            text = json.dumps(fixture, allow_nan=False, separators=(',', ':')) + '\n'
            path.write_text(text)
            total += len(text)
            print(f'{path.relative_to(ROOT)}  {len(text)} bytes')
    print(f'total {total} bytes')


if __name__ == '__main__':
    main()

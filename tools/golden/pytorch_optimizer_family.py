#!/usr/bin/python3
"""Golden float64 trajectories of optimizers PyTorch 1.13 lacks, transcribed from their reference implementations.

Run with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 tools/golden/pytorch_optimizer_family.py

It writes packages/core/test/fixtures/<optimizer>/<case>.json in the format of tools/golden/generate.py (the
`descent replay` input plus the expected trajectory and final state); packages/core/test/golden-extra.test.ts
replays each file through the reference.

Transcribed, statement for statement, with torch 1.13 ops (each class names the upstream file and commit):
- diffgrad: shivram1987/diffGrad, diffGrad_v2.py at 93fb7fcdf1ddefea04d4273b91f42f1c6e0da4b4 (the authors' fixed
  version: the previous gradient is stored as a copy), plus descent's `maximize` (the gradient negated first).
- adanorm: kozistr/pytorch_optimizer, pytorch_optimizer/optimizer/adanorm.py and base/optimizer.py at
  0283cf58f7b0d6cfdc7043fe6c54ce9c8c5efc16 (AdaNorm, the AdamNorm form), with the norm history updated in place
  (upstream's out-of-place `mul` there leaves it at 0; see the class).
- pnm: kozistr/pytorch_optimizer, pytorch_optimizer/optimizer/pnm.py at 0283cf58f7b0d6cfdc7043fe6c54ce9c8c5efc16.
- adopt: iShohei220/adopt, src/adopt/adopt.py (_single_tensor_adopt) at c621db21481adc94769982cccd7b896464ab295e.
- ademamix: apple/ml-ademamix, pytorch/ademamix.py at e7327151bbf2c812ae2c080de5491c685b6eb509.
- adapnm: kozistr/pytorch_optimizer, pytorch_optimizer/optimizer/adapnm.py at 0283cf58f7b0d6cfdc7043fe6c54ce9c8c5efc16.

Gradients are those of a noisy quadratic at torch's current parameters, recorded exactly.
ATEN_CPU_CAPABILITY=default (portable kernels, no FMA) as in generate.py.
"""

import os

os.environ['ATEN_CPU_CAPABILITY'] = 'default'

import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402
from common import check_all_finite  # noqa: E402
from torch.optim.optimizer import Optimizer  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / 'packages' / 'core' / 'test' / 'fixtures'


# --------------------------------------------------------------------------------------------------------
# diffGrad, shivram1987/diffGrad diffGrad_v2.py @ 93fb7fcd (transcribed; `maximize` added).

class DiffGrad(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group['params']:
                if p.grad is None:
                    continue
                grad = p.grad.clone()
                if group['maximize']:
                    grad = -grad
                state = self.state[p]
                if len(state) == 0:
                    state['step'] = 0
                    state['exp_avg'] = torch.zeros_like(p)
                    state['exp_avg_sq'] = torch.zeros_like(p)
                    state['previous_grad'] = torch.zeros_like(p)
                exp_avg, exp_avg_sq, previous_grad = state['exp_avg'], state['exp_avg_sq'], state['previous_grad']
                beta1, beta2 = group['betas']
                state['step'] += 1
                if group['weight_decay'] != 0:
                    grad.add_(p, alpha=group['weight_decay'])
                exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                denom = exp_avg_sq.sqrt().add_(group['eps'])
                bias_correction1 = 1 - beta1 ** state['step']
                bias_correction2 = 1 - beta2 ** state['step']
                diff = abs(previous_grad - grad)
                dfc = 1. / (1. + torch.exp(-diff))
                state['previous_grad'] = grad.clone()
                exp_avg1 = exp_avg * dfc
                step_size = group['lr'] * math.sqrt(bias_correction2) / bias_correction1
                p.addcdiv_(exp_avg1, denom, value=-step_size)


DIFFGRAD = dict(
    cls=DiffGrad,
    defaults=dict(lr=1e-3, betas=[0.9, 0.999], eps=1e-8, weightDecay=0.0, maximize=False),
    kwargs=lambda o: dict(lr=o['lr'], betas=tuple(o['betas']), eps=o['eps'], weight_decay=o['weightDecay'],
                          maximize=o['maximize']),
    slots={'exp_avg': 'expAvg', 'exp_avg_sq': 'expAvgSq', 'previous_grad': 'previousGrad'},
    generator='tools/golden/pytorch_optimizer_family.py, shivram1987/diffGrad diffGrad_v2.py @ 93fb7fcd transcribed',
    cases=[
        dict(name='defaults', description='All defaults.', options={}, seed=1),
        dict(name='lr-betas', description='lr 0.05, betas (0.8, 0.99).', options=dict(lr=0.05, betas=[0.8, 0.99]), seed=2),
        dict(name='weight-decay', description='L2 weight decay (the stored previous gradient includes it).',
             options=dict(lr=0.05, weightDecay=0.1), seed=3),
        dict(name='maximize', description='maximize with weight decay.', options=dict(lr=0.05, maximize=True, weightDecay=0.1), seed=4),
        dict(name='eps', description='Large eps.', options=dict(lr=0.05, eps=0.3), seed=5),
        dict(name='groups', description='Param groups: w and t override lr and betas.', options=dict(lr=0.02),
             groups=[dict(params=['w', 't'], options=dict(lr=0.1, betas=[0.5, 0.9]))], seed=6),
        dict(name='missing-grads', description='Some steps have no gradient for some parameters (state untouched).',
             options=dict(lr=0.05), missing={2: ['b'], 5: ['w', 's'], 6: ['w'], 9: ['t']}, seed=7),
        dict(name='large-grads', description='Gradients scaled by 50 (the friction saturates at 1).',
             options=dict(lr=0.05), scale=50.0, seed=8),
    ],
)


# --------------------------------------------------------------------------------------------------------
# AdaNorm, kozistr/pytorch_optimizer pytorch_optimizer/optimizer/adanorm.py with base/optimizer.py's
# apply_weight_decay, get_adanorm_gradient and apply_ams_bound, commit 0283cf58f7b0d6cfdc7043fe6c54ce9c8c5efc16
# (transcribed). One change: get_adanorm_gradient there updates the norm history out of place
# (`exp_grad_norm.mul(r).add_(...)`, so it stays 0); here in place (`mul_`), as the paper and earlier releases.

class AdaNorm(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.99), r=0.95, weight_decay=0.0, weight_decouple=True,
                 fixed_decay=False, ams_bound=False, eps=1e-8, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, r=r, weight_decay=weight_decay, weight_decouple=weight_decouple,
                                      fixed_decay=fixed_decay, ams_bound=ams_bound, eps=eps, maximize=maximize))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            beta1, beta2 = group['betas']
            for p in group['params']:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state['step'] = 0
                    state['exp_avg'] = torch.zeros_like(p)
                    state['exp_avg_var'] = torch.zeros_like(p)
                    state['exp_grad_norm'] = torch.zeros((1,), dtype=p.dtype)
                    if group['ams_bound']:
                        state['max_exp_avg_var'] = torch.zeros_like(p)
                state['step'] += 1
                bias_correction1 = 1.0 - math.pow(beta1, state['step'])
                bias_correction2_sq = math.sqrt(1.0 - math.pow(beta2, state['step']))
                step_size = group['lr'] / bias_correction1
                grad = p.grad.clone()
                if group['maximize']:
                    grad.neg_()
                exp_avg, exp_avg_var = state['exp_avg'], state['exp_avg_var']
                # apply_weight_decay
                if group['weight_decouple']:
                    p.mul_(1.0 - group['weight_decay'] * (1.0 if group['fixed_decay'] else group['lr']))
                elif group['weight_decay'] > 0.0:
                    grad.add_(p, alpha=group['weight_decay'])
                # get_adanorm_gradient (history updated in place; [0] so that 0-d parameters keep their shape)
                exp_grad_norm = state['exp_grad_norm']
                grad_norm = torch.linalg.norm(grad)
                exp_grad_norm.mul_(group['r']).add_(grad_norm, alpha=1.0 - group['r'])
                s_grad = grad.mul(exp_grad_norm[0]).div_(grad_norm) if exp_grad_norm > grad_norm else grad
                exp_avg.mul_(beta1).add_(s_grad, alpha=1.0 - beta1)
                exp_avg_var.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
                # apply_ams_bound
                if group['ams_bound']:
                    max_exp_avg_var = state['max_exp_avg_var']
                    torch.maximum(max_exp_avg_var, exp_avg_var, out=max_exp_avg_var)
                    de_nom = max_exp_avg_var.add(1e-15)
                else:
                    de_nom = exp_avg_var.add(1e-15)
                de_nom = de_nom.sqrt_().add_(group['eps'])
                de_nom.div_(bias_correction2_sq)
                p.addcdiv_(exp_avg, de_nom, value=-step_size)


ADANORM = dict(
    cls=AdaNorm,
    defaults=dict(lr=1e-3, betas=[0.9, 0.99], r=0.95, weightDecay=0.0, decoupledWeightDecay=True, fixedDecay=False,
                  amsBound=False, eps=1e-8, maximize=False),
    kwargs=lambda o: dict(lr=o['lr'], betas=tuple(o['betas']), r=o['r'], weight_decay=o['weightDecay'],
                          weight_decouple=o['decoupledWeightDecay'], fixed_decay=o['fixedDecay'],
                          ams_bound=o['amsBound'], eps=o['eps'], maximize=o['maximize']),
    slots={'exp_avg': 'expAvg', 'exp_avg_var': 'expAvgVar', 'exp_grad_norm': 'expGradNorm',
           'max_exp_avg_var': 'maxExpAvgVar'},
    generator='tools/golden/pytorch_optimizer_family.py, pytorch_optimizer adanorm.py @ 0283cf58 transcribed (history in place)',
    cases=[
        dict(name='defaults', description='All defaults.', options={}, seed=11),
        dict(name='lr-r', description='lr 0.05, r 0.8, betas (0.8, 0.95).', options=dict(lr=0.05, r=0.8, betas=[0.8, 0.95]), seed=12),
        dict(name='decoupled-decay', description='Decoupled weight decay.', options=dict(lr=0.05, weightDecay=0.1), seed=13),
        dict(name='fixed-decay', description='Decoupled fixed weight decay.', options=dict(lr=0.05, weightDecay=0.01, fixedDecay=True), seed=14),
        dict(name='l2', description='L2 weight decay (in the norm and both moments).',
             options=dict(lr=0.05, weightDecay=0.1, decoupledWeightDecay=False), seed=15),
        dict(name='ams-bound', description='amsBound with shrinking gradients.', options=dict(lr=0.05, amsBound=True), scale='shrinking', seed=16),
        dict(name='maximize', description='maximize with L2 decay.', options=dict(lr=0.05, maximize=True, weightDecay=0.1, decoupledWeightDecay=False), seed=17),
        dict(name='groups', description='Param groups: w and t override lr and r.', options=dict(lr=0.02),
             groups=[dict(params=['w', 't'], options=dict(lr=0.1, r=0.5))], seed=18),
        dict(name='missing-grads', description='Some steps have no gradient for some parameters (state untouched).',
             options=dict(lr=0.05), missing={2: ['b'], 5: ['w', 's'], 6: ['w'], 9: ['t']}, seed=19),
    ],
)


# --------------------------------------------------------------------------------------------------------
# PNM, kozistr/pytorch_optimizer pytorch_optimizer/optimizer/pnm.py with base/optimizer.py's apply_weight_decay,
# commit 0283cf58f7b0d6cfdc7043fe6c54ce9c8c5efc16 (transcribed). The parity is that of a per-parameter step
# count (descent's); upstream's is per group, the same whenever every parameter has a gradient every step, as in
# every case below.

class PNM(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 1.0), weight_decay=0.0, weight_decouple=True, fixed_decay=False,
                 maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay, weight_decouple=weight_decouple,
                                      fixed_decay=fixed_decay, maximize=maximize))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            beta1, beta2 = group['betas']
            beta1_p2 = beta1 ** 2
            noise_norm = math.sqrt((1 + beta2) ** 2 + beta2 ** 2)
            for p in group['params']:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state['step'] = 0
                    state['pos_momentum'] = torch.zeros_like(p)
                    state['neg_momentum'] = torch.zeros_like(p)
                state['step'] += 1
                grad = p.grad.clone()
                if group['maximize']:
                    grad.neg_()
                if state['step'] % 2 == 1:
                    pos_momentum, neg_momentum = state['pos_momentum'], state['neg_momentum']
                else:
                    neg_momentum, pos_momentum = state['pos_momentum'], state['neg_momentum']
                if group['weight_decouple']:
                    p.mul_(1.0 - group['weight_decay'] * (1.0 if group['fixed_decay'] else group['lr']))
                elif group['weight_decay'] > 0.0:
                    grad.add_(p, alpha=group['weight_decay'])
                pos_momentum.mul_(beta1_p2).add_(grad, alpha=1.0 - beta1_p2)
                delta_p = pos_momentum.mul(1.0 + beta2).add_(neg_momentum, alpha=-beta2).mul_(1.0 / noise_norm)
                p.add_(delta_p, alpha=-group['lr'])


PNM_INFO = dict(
    cls=PNM,
    defaults=dict(lr=1e-3, betas=[0.9, 1.0], weightDecay=0.0, decoupledWeightDecay=True, fixedDecay=False, maximize=False),
    kwargs=lambda o: dict(lr=o['lr'], betas=tuple(o['betas']), weight_decay=o['weightDecay'],
                          weight_decouple=o['decoupledWeightDecay'], fixed_decay=o['fixedDecay'], maximize=o['maximize']),
    slots={'pos_momentum': 'posMomentum', 'neg_momentum': 'negMomentum'},
    generator='tools/golden/pytorch_optimizer_family.py, pytorch_optimizer pnm.py @ 0283cf58 transcribed',
    cases=[
        dict(name='defaults', description='All defaults.', options={}, seed=21),
        dict(name='lr-betas', description='lr 0.05, betas (0.8, 0.5).', options=dict(lr=0.05, betas=[0.8, 0.5]), seed=22),
        dict(name='decoupled-decay', description='Decoupled weight decay.', options=dict(lr=0.05, weightDecay=0.1), seed=23),
        dict(name='fixed-decay', description='Decoupled fixed weight decay.', options=dict(lr=0.05, weightDecay=0.01, fixedDecay=True), seed=24),
        dict(name='l2', description='L2 weight decay.', options=dict(lr=0.05, weightDecay=0.1, decoupledWeightDecay=False), seed=25),
        dict(name='maximize', description='maximize with L2 decay.', options=dict(lr=0.05, maximize=True, weightDecay=0.1, decoupledWeightDecay=False), seed=26),
        dict(name='groups', description='Param groups: w and t override lr and betas.', options=dict(lr=0.02),
             groups=[dict(params=['w', 't'], options=dict(lr=0.1, betas=[0.5, 0.2]))], seed=27),
        dict(name='no-noise', description='beta0 = 0: plain momentum with decay beta1^2 on alternating buffers.',
             options=dict(lr=0.05, betas=[0.9, 0.0]), seed=28),
    ],
)


# --------------------------------------------------------------------------------------------------------
# ADOPT, iShohei220/adopt src/adopt/adopt.py _single_tensor_adopt, commit c621db21481adc94769982cccd7b896464ab295e
# (transcribed; clip_lambda as descent's clipLambda: 'quarterPower' = lambda step: step**0.25, 'none' = None).

class ADOPT(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.9999), eps=1e-6, clip_lambda='quarterPower', weight_decay=0.0,
                 decouple=False, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, clip_lambda=clip_lambda, weight_decay=weight_decay,
                                      decouple=decouple, maximize=maximize))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            beta1, beta2 = group['betas']
            lr, eps, weight_decay, decouple = group['lr'], group['eps'], group['weight_decay'], group['decouple']
            clip_lambda = (lambda step: step ** 0.25) if group['clip_lambda'] == 'quarterPower' else None
            for param in group['params']:
                if param.grad is None:
                    continue
                state = self.state[param]
                if len(state) == 0:
                    state['step'] = torch.tensor(0.0)
                    state['exp_avg'] = torch.zeros_like(param)
                    state['exp_avg_sq'] = torch.zeros_like(param)
                grad = param.grad if not group['maximize'] else -param.grad
                exp_avg, exp_avg_sq, step_t = state['exp_avg'], state['exp_avg_sq'], state['step']
                step = step_t.item()
                if weight_decay != 0 and not decouple:
                    grad = grad.add(param, alpha=weight_decay)
                if step == 0:
                    exp_avg_sq.addcmul_(grad, grad.conj())
                    step_t += 1
                    continue
                if weight_decay != 0 and decouple:
                    param.add_(param, alpha=-lr * weight_decay)
                denom = torch.clamp(exp_avg_sq.sqrt(), eps)
                normed_grad = grad.div(denom)
                if clip_lambda is not None:
                    clip = clip_lambda(step)
                    normed_grad.clamp_(-clip, clip)
                exp_avg.lerp_(normed_grad, 1 - beta1)
                param.add_(exp_avg, alpha=-lr)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad.conj(), value=1 - beta2)
                step_t += 1


ADOPT_INFO = dict(
    cls=ADOPT,
    defaults=dict(lr=1e-3, betas=[0.9, 0.9999], eps=1e-6, clipLambda='quarterPower', weightDecay=0.0,
                  decoupledWeightDecay=False, maximize=False),
    kwargs=lambda o: dict(lr=o['lr'], betas=tuple(o['betas']), eps=o['eps'], clip_lambda=o['clipLambda'],
                          weight_decay=o['weightDecay'], decouple=o['decoupledWeightDecay'], maximize=o['maximize']),
    slots={'exp_avg': 'expAvg', 'exp_avg_sq': 'expAvgSq'},
    generator='tools/golden/pytorch_optimizer_family.py, iShohei220/adopt src/adopt/adopt.py @ c621db21 transcribed',
    cases=[
        dict(name='defaults', description='All defaults.', options={}, seed=31),
        dict(name='lr-betas', description='lr 0.05, betas (0.8, 0.99).', options=dict(lr=0.05, betas=[0.8, 0.99]), seed=32),
        dict(name='no-clip', description='clipLambda none (the paper).', options=dict(lr=0.05, clipLambda='none'), seed=33),
        dict(name='clip-binds', description='Gradients that change scale (x50 every third step) so the clip binds.',
             options=dict(lr=0.05), scale='jumps', seed=34),
        dict(name='l2', description='L2 weight decay (also on the first step).', options=dict(lr=0.05, weightDecay=0.1), seed=35),
        dict(name='decoupled', description='Decoupled weight decay.', options=dict(lr=0.05, weightDecay=0.1, decoupledWeightDecay=True), seed=36),
        dict(name='maximize', description='maximize with L2 decay.', options=dict(lr=0.05, maximize=True, weightDecay=0.1), seed=37),
        dict(name='eps', description='Large eps (the floor binds).', options=dict(lr=0.05, eps=0.5), seed=38),
        dict(name='groups', description='Param groups: w and t override lr and clipLambda.', options=dict(lr=0.02),
             groups=[dict(params=['w', 't'], options=dict(lr=0.1, clipLambda='none'))], seed=39),
        dict(name='missing-grads', description='Some steps have no gradient for some parameters (state untouched).',
             options=dict(lr=0.05), missing={2: ['b'], 5: ['w', 's'], 6: ['w'], 9: ['t']}, seed=40),
    ],
)


# --------------------------------------------------------------------------------------------------------
# AdEMAMix, apple/ml-ademamix pytorch/ademamix.py, commit e7327151bbf2c812ae2c080de5491c685b6eb509 (transcribed;
# `maximize` added; warmup 0 passed as None; weight decay skipped when 0).

def linear_warmup_scheduler(step, alpha_end, alpha_start=0, warmup=1):
    if step < warmup:
        a = step / float(warmup)
        return (1.0 - a) * alpha_start + a * alpha_end
    return alpha_end


def linear_hl_warmup_scheduler(step, beta_end, beta_start=0, warmup=1):
    def f(beta, eps=1e-8):
        return math.log(0.5) / math.log(beta + eps) - 1

    def f_inv(t):
        return math.pow(0.5, 1 / (t + 1))

    if step < warmup:
        a = step / float(warmup)
        return f_inv((1.0 - a) * f(beta_start) + a * f(beta_end))
    return beta_end


class AdEMAMix(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999, 0.9999), alpha=2.0, beta3_warmup=None, alpha_warmup=None,
                 eps=1e-8, weight_decay=0, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, alpha=alpha, beta3_warmup=beta3_warmup,
                                      alpha_warmup=alpha_warmup, weight_decay=weight_decay, maximize=maximize))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            lr, lmbda, eps = group['lr'], group['weight_decay'], group['eps']
            beta1, beta2, beta3_final = group['betas']
            beta3_warmup, alpha_final, alpha_warmup = group['beta3_warmup'], group['alpha'], group['alpha_warmup']
            for p in group['params']:
                if p.grad is None:
                    continue
                grad = p.grad if not group['maximize'] else -p.grad
                state = self.state[p]
                if len(state) == 0:
                    state['step'] = 0
                    state['exp_avg_fast'] = torch.zeros_like(p) if beta1 != 0.0 else None
                    state['exp_avg_slow'] = torch.zeros_like(p)
                    state['exp_avg_sq'] = torch.zeros_like(p)
                exp_avg_fast, exp_avg_slow, exp_avg_sq = state['exp_avg_fast'], state['exp_avg_slow'], state['exp_avg_sq']
                state['step'] += 1
                bias_correction1 = 1 - beta1 ** state['step']
                bias_correction2 = 1 - beta2 ** state['step']
                alpha = linear_warmup_scheduler(state['step'], alpha_end=alpha_final, alpha_start=0, warmup=alpha_warmup) if alpha_warmup is not None else alpha_final
                beta3 = linear_hl_warmup_scheduler(state['step'], beta_end=beta3_final, beta_start=beta1, warmup=beta3_warmup) if beta3_warmup is not None else beta3_final
                if beta1 != 0.0:
                    exp_avg_fast.mul_(beta1).add_(grad, alpha=1 - beta1)
                else:
                    exp_avg_fast = grad
                exp_avg_slow.mul_(beta3).add_(grad, alpha=1 - beta3)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                denom = (exp_avg_sq.sqrt() / math.sqrt(bias_correction2)).add_(eps)
                update = (exp_avg_fast.div(bias_correction1) + alpha * exp_avg_slow) / denom
                if lmbda != 0:
                    update.add_(p, alpha=lmbda)
                p.add_(-lr * update)


ADEMAMIX_INFO = dict(
    cls=AdEMAMix,
    defaults=dict(lr=1e-3, betas=[0.9, 0.999, 0.9999], alpha=2.0, beta3Warmup=0, alphaWarmup=0, eps=1e-8,
                  weightDecay=0.0, maximize=False),
    kwargs=lambda o: dict(lr=o['lr'], betas=tuple(o['betas']), alpha=o['alpha'], beta3_warmup=o['beta3Warmup'] or None,
                          alpha_warmup=o['alphaWarmup'] or None, eps=o['eps'], weight_decay=o['weightDecay'],
                          maximize=o['maximize']),
    slots={'exp_avg_fast': 'expAvgFast', 'exp_avg_slow': 'expAvgSlow', 'exp_avg_sq': 'expAvgSq'},
    generator='tools/golden/pytorch_optimizer_family.py, apple/ml-ademamix pytorch/ademamix.py @ e7327151 transcribed',
    cases=[
        dict(name='defaults', description='All defaults.', options={}, seed=41),
        dict(name='lr-betas-alpha', description='lr 0.05, betas (0.8, 0.99, 0.999), alpha 5.',
             options=dict(lr=0.05, betas=[0.8, 0.99, 0.999], alpha=5.0), seed=42),
        dict(name='warmups', description='alpha and beta3 warmups over 8 and 10 steps (the schedules run within the 12 steps).',
             options=dict(lr=0.05, alphaWarmup=8, beta3Warmup=10), seed=43),
        dict(name='beta1-zero', description='beta1 = 0: no fast EMA (the gradient itself), no expAvgFast slot.',
             options=dict(lr=0.05, betas=[0.0, 0.999, 0.99], beta3Warmup=6), seed=44),
        dict(name='weight-decay', description='Weight decay added to the update.', options=dict(lr=0.05, weightDecay=0.1), seed=45),
        dict(name='maximize', description='maximize with weight decay.', options=dict(lr=0.05, maximize=True, weightDecay=0.1), seed=46),
        dict(name='groups', description='Param groups: w and t override lr, alpha and the warmups.', options=dict(lr=0.02),
             groups=[dict(params=['w', 't'], options=dict(lr=0.1, alpha=1.0, alphaWarmup=5))], seed=47),
        dict(name='missing-grads', description='Some steps have no gradient for some parameters (state untouched; warmups count the parameter\'s own steps).',
             options=dict(lr=0.05, alphaWarmup=6), missing={2: ['b'], 5: ['w', 's'], 6: ['w'], 9: ['t']}, seed=48),
    ],
)


# --------------------------------------------------------------------------------------------------------
# AdaPNM, kozistr/pytorch_optimizer pytorch_optimizer/optimizer/adapnm.py with base/optimizer.py's
# apply_weight_decay and apply_ams_bound, commit 0283cf58f7b0d6cfdc7043fe6c54ce9c8c5efc16 (transcribed; no adanorm;
# parity by a per-parameter step count, as for PNM).

class AdaPNM(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999, 1.0), weight_decay=0.0, weight_decouple=True,
                 fixed_decay=False, ams_bound=True, eps=1e-8, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay, weight_decouple=weight_decouple,
                                      fixed_decay=fixed_decay, ams_bound=ams_bound, eps=eps, maximize=maximize))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            beta1, beta2, beta3 = group['betas']
            beta1_p2 = beta1 ** 2
            noise_norm = math.sqrt((1 + beta3) ** 2 + beta3 ** 2)
            for p in group['params']:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state['step'] = 0
                    state['exp_avg'] = torch.zeros_like(p)
                    state['exp_avg_sq'] = torch.zeros_like(p)
                    state['neg_exp_avg'] = torch.zeros_like(p)
                    if group['ams_bound']:
                        state['max_exp_avg_sq'] = torch.zeros_like(p)
                state['step'] += 1
                bias_correction1 = 1.0 - math.pow(beta1, state['step'])
                bias_correction2_sq = math.sqrt(1.0 - math.pow(beta2, state['step']))
                step_size = group['lr'] / bias_correction1
                grad = p.grad.clone()
                if group['maximize']:
                    grad.neg_()
                if group['weight_decouple']:
                    p.mul_(1.0 - group['weight_decay'] * (1.0 if group['fixed_decay'] else group['lr']))
                elif group['weight_decay'] > 0.0:
                    grad.add_(p, alpha=group['weight_decay'])
                exp_avg_sq = state['exp_avg_sq']
                if state['step'] % 2 == 1:
                    exp_avg, neg_exp_avg = state['exp_avg'], state['neg_exp_avg']
                else:
                    exp_avg, neg_exp_avg = state['neg_exp_avg'], state['exp_avg']
                exp_avg.mul_(beta1_p2).add_(grad, alpha=1.0 - beta1_p2)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
                if group['ams_bound']:
                    max_exp_avg_sq = state['max_exp_avg_sq']
                    torch.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
                    de_nom = max_exp_avg_sq.add(1e-15)
                else:
                    de_nom = exp_avg_sq.add(1e-15)
                de_nom = de_nom.sqrt_().add_(group['eps'])
                de_nom.div_(bias_correction2_sq)
                pn_momentum = exp_avg.mul(1.0 + beta3).add_(neg_exp_avg, alpha=-beta3).mul_(1.0 / noise_norm)
                p.addcdiv_(pn_momentum, de_nom, value=-step_size)


ADAPNM_INFO = dict(
    cls=AdaPNM,
    defaults=dict(lr=1e-3, betas=[0.9, 0.999, 1.0], weightDecay=0.0, decoupledWeightDecay=True, fixedDecay=False,
                  amsBound=True, eps=1e-8, maximize=False),
    kwargs=lambda o: dict(lr=o['lr'], betas=tuple(o['betas']), weight_decay=o['weightDecay'],
                          weight_decouple=o['decoupledWeightDecay'], fixed_decay=o['fixedDecay'],
                          ams_bound=o['amsBound'], eps=o['eps'], maximize=o['maximize']),
    slots={'exp_avg': 'expAvg', 'neg_exp_avg': 'negExpAvg', 'exp_avg_sq': 'expAvgSq', 'max_exp_avg_sq': 'maxExpAvgSq'},
    generator='tools/golden/pytorch_optimizer_family.py, pytorch_optimizer adapnm.py @ 0283cf58 transcribed',
    cases=[
        dict(name='defaults', description='All defaults (amsBound on).', options={}, seed=51),
        dict(name='lr-betas', description='lr 0.05, betas (0.8, 0.99, 0.5).', options=dict(lr=0.05, betas=[0.8, 0.99, 0.5]), seed=52),
        dict(name='no-ams-bound', description='amsBound off, shrinking gradients.', options=dict(lr=0.05, amsBound=False), scale='shrinking', seed=53),
        dict(name='decoupled-decay', description='Decoupled weight decay.', options=dict(lr=0.05, weightDecay=0.1), seed=54),
        dict(name='fixed-decay', description='Fixed decoupled decay.', options=dict(lr=0.05, weightDecay=0.01, fixedDecay=True), seed=55),
        dict(name='l2', description='L2 weight decay.', options=dict(lr=0.05, weightDecay=0.1, decoupledWeightDecay=False), seed=56),
        dict(name='maximize', description='maximize with L2 decay.', options=dict(lr=0.05, maximize=True, weightDecay=0.1, decoupledWeightDecay=False), seed=57),
        dict(name='groups', description='Param groups: w and t override lr and betas.', options=dict(lr=0.02),
             groups=[dict(params=['w', 't'], options=dict(lr=0.1, betas=[0.5, 0.9, 0.2]))], seed=58),
    ],
)

OPTIMIZERS = {'diffgrad': DIFFGRAD, 'adanorm': ADANORM, 'pnm': PNM_INFO, 'adopt': ADOPT_INFO, 'ademamix': ADEMAMIX_INFO,
              'adapnm': ADAPNM_INFO}

SHAPES = [('w', [3, 4]), ('b', [5]), ('s', [1]), ('t', [2, 3, 2]), ('c', [])]
STEPS = 12


def scale_at(spec, k):
    scale = spec.get('scale', 1.0)
    if scale == 'shrinking':
        return 0.7 ** k
    if scale == 'jumps':
        return 50.0 if k % 3 == 2 else 1.0
    return scale


def floats(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def run_case(name, info, spec):
    gen = torch.Generator().manual_seed(5000 + spec['seed'])
    full = dict(info['defaults'], **spec['options'])
    names = [n for n, _ in SHAPES]
    shapes = dict(SHAPES)
    params = {n: torch.nn.Parameter(torch.randn(shapes[n], generator=gen)) for n in names}
    initial = {n: floats(params[n]) for n in names}
    target = {n: torch.randn(shapes[n], generator=gen) for n in names}
    curve = {n: 0.5 + 1.5 * torch.rand(shapes[n], generator=gen) for n in names}

    torch_groups, grouped = [], set()
    for g in spec.get('groups') or []:
        opts = dict(full, **g['options'])
        grouped.update(g['params'])
        torch_groups.append(dict(params=[params[n] for n in g['params']], **info['kwargs'](opts)))
    rest = [params[n] for n in names if n not in grouped]
    if rest:
        torch_groups.insert(0, dict(params=rest, **info['kwargs'](full)))
    opt = info['cls'](torch_groups, **info['kwargs'](full))

    missing = spec.get('missing', {})
    grads_out, steps_out = [], []
    updates = {n: 0 for n in names}
    for k in range(STEPS):
        step_grads = []
        for n in names:
            p = params[n]
            noise = torch.randn(shapes[n], generator=gen)
            if n in missing.get(k, []):
                p.grad = None
                step_grads.append(None)
                continue
            with torch.no_grad():
                g = (curve[n] * (p - target[n]) + 0.3 * noise) * scale_at(spec, k)
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
        if st['step'] != updates[n]:
            sys.exit(f'{name}/{spec["name"]}: torch step {st["step"]} != {updates[n]} updates of {n}')
        slots = {info['slots'][k]: floats(v) for k, v in st.items() if k in info['slots'] and v is not None}
        scalars = {info['scalars'][k]: float(v) for k, v in st.items() if k in info.get('scalars', {})}
        state_out[n] = dict(step=updates[n], scalars=scalars, slots=slots)

    fixture = dict(description=spec['description'] + ' Float64, ATEN_CPU_CAPABILITY=default.',
                   generator=f'{info["generator"]}, PyTorch {torch.__version__}', optimizer=name, options=spec['options'])
    if spec.get('groups'):
        fixture['groups'] = [dict(params=g['params'], options=g['options']) for g in spec['groups']]
    fixture['params'] = [dict(name=n, shape=shapes[n], data=initial[n]) for n in names]
    fixture['grads'] = grads_out
    fixture['expected'] = dict(steps=steps_out, state=state_out)
    return fixture


def main():
    config = torch.__config__.show()
    if 'CPU capability usage: NO AVX' not in config and 'CPU capability usage: DEFAULT' not in config:
        sys.exit('ATEN_CPU_CAPABILITY=default did not take effect')
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    only = sys.argv[1:]
    for name, info in OPTIMIZERS.items():
        if only and name not in only:
            continue
        out = FIXTURES / name
        out.mkdir(parents=True, exist_ok=True)
        for old in out.glob('*.json'):
            old.unlink()
        for spec in info['cases']:
            fixture = run_case(name, info, spec)
            check_all_finite(fixture, f'{name}/{spec["name"]}')
            path = out / f'{spec["name"]}.json'
            text = json.dumps(fixture, allow_nan=False, separators=(',', ':')) + '\n'
            path.write_text(text)
            print(f'{path.relative_to(ROOT)}  {len(text)} bytes')


if __name__ == '__main__':
    main()

"""Modality adaptors: the mixture of experts (``moe``) and the single linear layer, against hand computations."""

from __future__ import annotations

import math

import pytest
import torch

from antkit.components.adaptors import LinearAdaptor, MixtureOfExperts
from antkit.components.base import Adaptor
from antkit.model.dropout import dropout_copies, dropout_once


def make_moe(registry, in_dim=3, dim=2, **settings):
    cls = registry.get("adaptor", "moe")
    assert cls is MixtureOfExperts
    return cls(cls.Config(**settings), in_dim, dim)


def make_linear(registry, in_dim=3, dim=2, **settings):
    cls = registry.get("adaptor", "linear")
    assert cls is LinearAdaptor
    return cls(cls.Config(**settings), in_dim, dim)


def softmax_list(values):
    top = max(values)
    exps = [math.exp(v - top) for v in values]
    total = sum(exps)
    return [e / total for e in exps]


# ----------------------------------------------------------------------------------------------- construction


def test_moe_is_an_adaptor_with_expected_shapes(registry):
    """moe registers as an Adaptor; whitening has centres and no bias, linear has a bias and no centres."""
    whitening = make_moe(registry, in_dim=5, dim=4, experts=3)
    linear = make_moe(registry, in_dim=5, dim=4, experts=3, expert="linear")
    assert isinstance(whitening, Adaptor)
    assert whitening.weight.shape == (3, 5, 4)
    assert whitening.center.shape == (3, 5) and whitening.bias is None
    assert linear.bias.shape == (3, 4) and linear.center is None
    assert whitening.gate.shape == (5, 3) and whitening.noise.shape == (5, 3)


def test_gate_weights_start_at_zero_so_gates_are_uniform(registry):
    """W_g and W_n are zero at construction: every item gets gate 1/K, in eval and in training without noise."""
    torch.manual_seed(0)
    moe = make_moe(registry, in_dim=6, dim=4, experts=4)
    assert torch.count_nonzero(moe.gate) == 0
    assert torch.count_nonzero(moe.noise) == 0
    assert torch.count_nonzero(moe.center) == 0
    moe.eval()
    x = torch.randn(5, 6) * 10
    assert torch.allclose(moe.gates(x), torch.full((5, 4), 0.25))


# ----------------------------------------------------------------------------------------------- gates


def test_eval_gate_is_softmax_of_x_times_gate_weights(registry):
    """Eval gates = softmax(x W_g), checked against numbers computed by hand."""
    moe = make_moe(registry, in_dim=2, dim=2, experts=2)
    with torch.no_grad():
        moe.gate.copy_(torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
        moe.noise.fill_(5.0)  # must not matter in eval
    moe.eval()
    x = torch.tensor([[1.0, 1.0], [3.0, 0.0]])
    # row 0: logits (1, 2); row 1: logits (3, 0)
    expected = torch.tensor([softmax_list([1.0, 2.0]), softmax_list([3.0, 0.0])])
    assert torch.allclose(moe.gates(x), expected, atol=1e-6)
    # and deterministic (no noise in eval)
    assert torch.equal(moe.gates(x), moe.gates(x))


def test_training_gate_noise_is_scaled_by_softplus_plus_001(registry):
    """Training gates = softmax(x W_g + eps * (softplus(x W_n) + 0.01)), eps ~ N(0, 1) drawn for (N, K)."""
    moe = make_moe(registry, in_dim=2, dim=2, experts=3)
    with torch.no_grad():
        moe.gate.copy_(torch.tensor([[0.5, -1.0, 0.0], [0.0, 1.0, 2.0]]))
        moe.noise.copy_(torch.tensor([[1.0, 0.0, -2.0], [0.5, 3.0, 0.0]]))
    moe.train()
    x = torch.tensor([[1.0, 2.0], [-1.0, 0.5], [0.0, 0.0], [2.0, -1.0]])
    torch.manual_seed(123)
    got = moe.gates(x)
    torch.manual_seed(123)
    eps = torch.randn(4, 3)
    logits = [[sum(x[n, i].item() * moe.gate[i, k].item() for i in range(2)) for k in range(3)] for n in range(4)]
    scales = [
        [math.log1p(math.exp(sum(x[n, i].item() * moe.noise[i, k].item() for i in range(2)))) + 0.01 for k in range(3)]
        for n in range(4)
    ]
    expected = torch.tensor(
        [softmax_list([logits[n][k] + eps[n, k].item() * scales[n][k] for k in range(3)]) for n in range(4)]
    )
    assert torch.allclose(got, expected, atol=1e-5)
    # the noise really is there: the noiseless gates differ
    clean = torch.tensor([softmax_list(logits[n]) for n in range(4)])
    assert not torch.allclose(got, clean, atol=1e-3)


def test_training_gate_noise_scale_statistics(registry):
    """With W_g = W_n = 0 and K = 2, the logit difference is N(0, 2 * (softplus(0) + 0.01)^2)."""
    moe = make_moe(registry, in_dim=1, dim=2, experts=2)
    moe.train()
    torch.manual_seed(0)
    gates = moe.gates(torch.ones(20000, 1))
    difference = torch.log(gates[:, 0] / gates[:, 1])  # l0 - l1
    expected_std = math.sqrt(2.0) * (math.log(2.0) + 0.01)
    assert abs(difference.std().item() - expected_std) < 0.03
    assert abs(difference.mean().item()) < 0.03


def test_noisy_gate_switch_off_means_no_noise_in_training(registry):
    """noisy_gate: false gives training gates equal to eval gates."""
    moe = make_moe(registry, in_dim=2, dim=2, experts=2, noisy_gate=False)
    with torch.no_grad():
        moe.gate.copy_(torch.tensor([[1.0, -1.0], [0.5, 0.0]]))
        moe.noise.fill_(3.0)
    x = torch.tensor([[1.0, 2.0], [0.0, -1.0]])
    moe.train()
    train_gates = moe.gates(x)
    moe.eval()
    assert torch.allclose(train_gates, moe.gates(x))


# ----------------------------------------------------------------------------------------------- experts


def test_whitening_experts_by_hand(registry):
    """Whitening expert k = W_k (x - b_k), no output bias; output = sum_k g_k expert_k (eval)."""
    moe = make_moe(registry, in_dim=2, dim=2, experts=2)
    W0 = [[1.0, 0.0], [0.0, 1.0]]  # stored as x @ W: W[i][d]
    W1 = [[2.0, 1.0], [0.0, -1.0]]
    b0 = [1.0, 0.0]
    b1 = [0.0, 2.0]
    with torch.no_grad():
        moe.weight.copy_(torch.tensor([W0, W1]))
        moe.center.copy_(torch.tensor([b0, b1]))
        moe.gate.copy_(torch.tensor([[1.0, 0.0], [0.0, 0.0]]))
    moe.eval()
    x = torch.tensor([[3.0, 4.0], [0.0, 1.0]])
    # row 0: x - b0 = (2, 4) -> e0 = (2, 4); x - b1 = (3, 2) -> e1 = (3*2 + 2*0, 3*1 + 2*-1) = (6, 1)
    #        logits (3, 0)
    # row 1: x - b0 = (-1, 1) -> e0 = (-1, 1); x - b1 = (0, -1) -> e1 = (0, 1); logits (0, 0)
    g0 = softmax_list([3.0, 0.0])
    expected = torch.tensor(
        [
            [g0[0] * 2 + g0[1] * 6, g0[0] * 4 + g0[1] * 1],
            [0.5 * -1 + 0.5 * 0, 0.5 * 1 + 0.5 * 1],
        ]
    )
    assert torch.allclose(moe(x), expected, atol=1e-5)


def test_whitening_expert_has_no_output_bias(registry):
    """x = b_k for every k gives exactly zero output (whitening has no output bias)."""
    moe = make_moe(registry, in_dim=3, dim=4, experts=3)
    centre = torch.tensor([0.3, -1.0, 2.0])
    with torch.no_grad():
        moe.center.copy_(centre.expand(3, 3))
    moe.eval()
    assert torch.allclose(moe(centre[None]), torch.zeros(1, 4), atol=1e-6)
    assert not any(name.endswith("bias") for name, _ in moe.named_parameters())


def test_linear_experts_by_hand(registry):
    """Linear expert k = W_k x + c_k (eval)."""
    moe = make_moe(registry, in_dim=2, dim=2, experts=2, expert="linear")
    with torch.no_grad():
        moe.weight.copy_(torch.tensor([[[1.0, 2.0], [0.0, 1.0]], [[-1.0, 0.0], [1.0, 1.0]]]))
        moe.bias.copy_(torch.tensor([[0.5, 0.0], [0.0, -3.0]]))
        moe.gate.copy_(torch.tensor([[0.0, 0.0], [2.0, 0.0]]))
    moe.eval()
    x = torch.tensor([[1.0, 1.0]])
    # e0 = (1*1 + 1*0, 1*2 + 1*1) + (0.5, 0) = (1.5, 3); e1 = (-1 + 1, 0 + 1) + (0, -3) = (0, -2); logits (2, 0)
    g = softmax_list([2.0, 0.0])
    expected = torch.tensor([[g[0] * 1.5 + g[1] * 0.0, g[0] * 3.0 + g[1] * -2.0]])
    assert torch.allclose(moe(x), expected, atol=1e-5)
    # a zero input gives the gated biases
    zero = moe(torch.zeros(1, 2))
    assert torch.allclose(zero, torch.tensor([[0.25, -1.5]]), atol=1e-6)


@pytest.mark.parametrize("expert", ["whitening", "linear"])
def test_eval_fast_path_equals_per_expert_loop(registry, expert):
    """The one-GEMM path equals an explicit loop over experts, and training mode with dropout 0 and no noise."""
    torch.manual_seed(1)
    moe = make_moe(registry, in_dim=7, dim=5, experts=4, expert=expert, dropout=0.0, noisy_gate=False)
    with torch.no_grad():
        moe.gate.normal_()
        if moe.center is not None:
            moe.center.normal_()
        if moe.bias is not None:
            moe.bias.normal_()
        moe.weight.normal_()
    x = torch.randn(6, 7)
    gates = torch.softmax(x @ moe.gate, dim=-1)
    expected = torch.zeros(6, 5)
    for k in range(4):
        if expert == "whitening":
            out = (x - moe.center[k]) @ moe.weight[k]
        else:
            out = x @ moe.weight[k] + moe.bias[k]
        expected += gates[:, k : k + 1] * out
    moe.eval()
    assert torch.allclose(moe(x), expected, atol=1e-5)
    moe.train()
    assert torch.allclose(moe(x), expected, atol=1e-5)


@pytest.mark.parametrize("expert", ["whitening", "linear"])
def test_training_dropout_path_matches_explicit_formula(registry, expert):
    """The training (dropout) path equals sum_k g_k expert_k(mask_k * x / (1-p)) for the masks it drew."""
    p = 0.5
    moe = make_moe(registry, in_dim=4, dim=3, experts=3, expert=expert, dropout=p, noisy_gate=False)
    torch.manual_seed(7)
    with torch.no_grad():
        moe.gate.normal_()
        moe.weight.normal_()
        (moe.center if moe.center is not None else moe.bias).normal_()
    x = torch.randn(5, 4)
    moe.train()
    torch.manual_seed(99)
    got = moe(x)
    torch.manual_seed(99)
    masks = dropout_copies(torch.ones(5, 4), 3, p)  # same draw as the adaptor's (K, N, in) dropout
    gates = torch.softmax(x @ moe.gate, dim=-1)
    expected = torch.zeros(5, 3)
    for k in range(3):
        dropped = x * masks[k]
        out = (dropped - moe.center[k]) @ moe.weight[k] if expert == "whitening" else dropped @ moe.weight[k] + moe.bias[k]
        expected += gates[:, k : k + 1] * out
    assert torch.allclose(got, expected, atol=1e-5)


@pytest.mark.parametrize("in_dim, dim", [(7, 5), (3, 9)], ids=["wider-input", "narrower-input"])
@pytest.mark.parametrize("dropout_masks", ["independent", "shared"])
@pytest.mark.parametrize("expert", ["whitening", "linear"])
def test_outputs_and_gradients_match_the_explicit_formula(registry, in_dim, dim, dropout_masks, expert):
    """The mixture gives sum_k g_k expert_k(mask_k * x), and its gradients, for every expert kind and mask mode,
    with features wider or narrower than the output (prices are narrower)."""
    p, experts = 0.3, 3
    moe = make_moe(registry, in_dim, dim, experts=experts, expert=expert, dropout=p, dropout_masks=dropout_masks,
                   noisy_gate=False)
    torch.manual_seed(2)
    with torch.no_grad():
        for parameter in moe.parameters():
            parameter.normal_()
    x = torch.randn(6, in_dim)
    torch.manual_seed(5)
    got = moe(x)
    got.square().sum().backward()
    torch.manual_seed(5)  # the same masks: the same draws from the same generator
    ones = torch.ones(6, in_dim)
    masks = (dropout_copies(ones, experts, p) if dropout_masks == "independent"
             else dropout_once(ones, p).expand(experts, 6, in_dim))
    params = {name: parameter.detach().clone().requires_grad_() for name, parameter in moe.named_parameters()}
    gates = torch.softmax(x @ params["gate"], dim=-1)
    expected = torch.zeros(6, dim)
    for k in range(experts):
        dropped = x * masks[k]
        out = ((dropped - params["center"][k]) @ params["weight"][k] if expert == "whitening"
               else dropped @ params["weight"][k] + params["bias"][k])
        expected = expected + gates[:, k : k + 1] * out
    expected.square().sum().backward()
    assert torch.allclose(got, expected, atol=1e-4)
    for name, parameter in moe.named_parameters():
        if name != "noise":  # unused without the noisy gate
            assert torch.allclose(parameter.grad, params[name].grad, rtol=1e-4, atol=1e-3), name


@pytest.mark.parametrize("dropout_masks", ["independent", "shared"])
def test_bfloat16_experts_match_float32(registry, dropout_masks):
    """precision: bfloat16 gives float32 outputs and gradients within bfloat16 rounding of the float32 path,
    with the same dropout masks (same seed)."""
    torch.manual_seed(3)
    exact = make_moe(registry, in_dim=64, dim=16, dropout_masks=dropout_masks)
    fast = make_moe(registry, in_dim=64, dim=16, dropout_masks=dropout_masks, precision="bfloat16")
    with torch.no_grad():
        exact.gate.normal_(std=0.3)
        exact.center.normal_()
    fast.load_state_dict(exact.state_dict())
    x = torch.randn(50, 64)
    outputs = []
    for moe in (exact, fast):
        torch.manual_seed(11)
        out = moe(x)
        out.square().sum().backward()
        outputs.append(out)
    assert outputs[1].dtype == torch.float32 and fast.weight.grad.dtype == torch.float32
    assert 0 < (outputs[1] - outputs[0]).norm() / outputs[0].norm() < 0.01  # rounded, not the same path
    for name in ("weight", "center", "gate"):
        a, b = getattr(exact, name).grad, getattr(fast, name).grad
        assert (b - a).norm() / a.norm() < 0.02, name


def test_precision_is_dumped_only_when_not_the_default(registry):
    """``precision`` came after the first release: at its default it stays out of dumps (fingerprints and
    checkpoint configs of earlier runs still match)."""
    config = registry.get("adaptor", "moe").Config
    assert "precision" not in config().model_dump()
    assert config(precision="bfloat16").model_dump()["precision"] == "bfloat16"
    assert config.model_validate(config().model_dump()) == config()


def test_per_expert_dropout_masks_are_independent(registry):
    """Each expert sees its own dropout mask: expert k is routed to its own output block, blocks differ."""
    experts, in_dim = 3, 64
    moe = make_moe(registry, in_dim=in_dim, dim=experts * in_dim, experts=experts, dropout=0.5, noisy_gate=False)
    with torch.no_grad():
        moe.weight.zero_()
        for k in range(experts):
            moe.weight[k, :, k * in_dim : (k + 1) * in_dim] = torch.eye(in_dim)
    moe.train()
    torch.manual_seed(3)
    x = torch.ones(4, in_dim)
    out = moe(x)  # gates uniform: block k = (1/K) * dropout_k(x)
    blocks = [out[:, k * in_dim : (k + 1) * in_dim] for k in range(experts)]
    kept = [b != 0 for b in blocks]
    for block in blocks:  # each block is a genuine dropout of ones: values 0 or (1/K) / (1 - p)
        values = set(torch.round(block * 1000).unique().tolist())
        assert values <= {0.0, round(1000 * (1 / experts) / 0.5)}
        assert 0.3 < block.ne(0).float().mean().item() < 0.7
    for a in range(experts):
        for b in range(a + 1, experts):
            assert not torch.equal(kept[a], kept[b])
    # and items within one expert get different masks too
    assert not torch.equal(kept[0][0], kept[0][1])


def test_dropout_only_in_training(registry):
    """In eval the output is deterministic whatever the dropout setting."""
    torch.manual_seed(0)
    moe = make_moe(registry, in_dim=8, dim=4, experts=2, dropout=0.5)
    x = torch.randn(3, 8)
    moe.eval()
    assert torch.equal(moe(x), moe(x))
    moe.train()
    torch.manual_seed(1)
    a = moe(x)
    torch.manual_seed(2)
    b = moe(x)
    assert not torch.allclose(a, b)


# ----------------------------------------------------------------------------------------------- reset


def test_moe_reset_parameters_restores_initial_distribution(registry):
    """reset_parameters: centres, biases and gate weights back to zero; expert weights ~ N(0, 0.02)."""
    torch.manual_seed(0)
    for expert in ("whitening", "linear"):
        moe = make_moe(registry, in_dim=64, dim=32, experts=8, expert=expert)
        with torch.no_grad():
            for parameter in moe.parameters():
                parameter.fill_(3.0)
        moe.reset_parameters()
        assert torch.count_nonzero(moe.gate) == 0
        assert torch.count_nonzero(moe.noise) == 0
        if expert == "whitening":
            assert torch.count_nonzero(moe.center) == 0
        else:
            assert torch.count_nonzero(moe.bias) == 0
        assert abs(moe.weight.std().item() - 0.02) < 0.001
        assert abs(moe.weight.mean().item()) < 0.001
        moe.eval()
        assert torch.allclose(moe.gates(torch.randn(3, 64)), torch.full((3, 8), 1 / 8))


def test_moe_weights_at_construction_std_002(registry):
    """Expert weights start ~ N(0, 0.02)."""
    torch.manual_seed(0)
    moe = make_moe(registry, in_dim=64, dim=32, experts=8)
    assert abs(moe.weight.std().item() - 0.02) < 0.001


# ----------------------------------------------------------------------------------------------- linear adaptor


def test_linear_adaptor_by_hand(registry):
    """linear: y = W x + c (eval)."""
    adaptor = make_linear(registry, in_dim=3, dim=2)
    assert isinstance(adaptor, Adaptor)
    with torch.no_grad():
        adaptor.linear.weight.copy_(torch.tensor([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]]))  # (dim, in)
        adaptor.linear.bias.copy_(torch.tensor([0.5, -0.5]))
    adaptor.eval()
    x = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]])
    # row 0: (1 - 3 + 0.5, 2 + 2 - 0.5) = (-1.5, 3.5); row 1: (-1 + 0.5, 0 - 0.5) = (-0.5, -0.5)
    assert torch.allclose(adaptor(x), torch.tensor([[-1.5, 3.5], [-0.5, -0.5]]))


def test_linear_adaptor_without_bias(registry):
    """bias: false gives no bias: zero input -> zero output."""
    adaptor = make_linear(registry, in_dim=3, dim=2, bias=False)
    adaptor.eval()
    assert adaptor.linear.bias is None
    assert torch.equal(adaptor(torch.zeros(2, 3)), torch.zeros(2, 2))


def test_linear_adaptor_dropout_only_in_training(registry):
    """Dropout applies in training only."""
    torch.manual_seed(0)
    adaptor = make_linear(registry, in_dim=32, dim=4, dropout=0.5)
    x = torch.randn(3, 32)
    adaptor.eval()
    expected = x @ adaptor.linear.weight.T + adaptor.linear.bias
    assert torch.allclose(adaptor(x), expected, atol=1e-6)
    adaptor.train()
    assert not torch.allclose(adaptor(x), expected, atol=1e-4)


def test_linear_adaptor_reset_parameters(registry):
    """reset_parameters: weight ~ N(0, 0.02), bias zero."""
    torch.manual_seed(0)
    adaptor = make_linear(registry, in_dim=128, dim=64)
    with torch.no_grad():
        adaptor.linear.weight.fill_(1.0)
        adaptor.linear.bias.fill_(1.0)
    adaptor.reset_parameters()
    assert torch.count_nonzero(adaptor.linear.bias) == 0
    assert abs(adaptor.linear.weight.std().item() - 0.02) < 0.001


# ----------------------------------------------------------------------------------------------- workspace


def test_training_steps_reuse_the_workspace_and_evaluation_frees_it(registry):
    """The per-expert dropped copies and the expert outputs live in the same memory step after step (a CPU
    spends as long faulting in fresh memory as computing on it); eval() gives that memory back."""
    moe = make_moe(registry, in_dim=16, dim=8, experts=4)
    x = torch.randn(30, 16)
    pointers = []
    for _ in range(3):
        moe(x).sum().backward()
        pointers.append({name: buffer.tensor.data_ptr() for name, buffer in moe.workspace._buffers.items()})
    assert set(pointers[0]) == {"dropped", "experts", "expert_gradients"}
    assert pointers[0] == pointers[1] == pointers[2]
    moe.eval()
    assert moe.workspace._buffers == {}
    moe(x)  # evaluation allocates as usual and keeps nothing
    assert moe.workspace._buffers == {}


def test_inference_mode_forwards_leave_no_buffer_behind_for_training(registry):
    """A tensor made under torch.inference_mode cannot be written outside it: such forwards (evaluation, or a
    training-mode forward) must not fill the workspace that the next training step reuses."""
    moe = make_moe(registry, in_dim=16, dim=8, experts=4)
    x = torch.randn(30, 16)
    for training in (False, True):
        moe.train(training)
        with torch.inference_mode():
            moe(x)
        moe.train()
        moe(x).sum().backward()  # would fail writing into an inference-mode buffer
    with torch.no_grad():
        moe(x)
    moe(x).sum().backward()
    assert moe.weight.grad is not None


@pytest.mark.parametrize("dropout_masks", ["independent", "shared"])
def test_two_forward_passes_before_one_backward_keep_their_own_buffers(registry, dropout_masks):
    """Gradient accumulation over two passes gives the sum of two separate passes' gradients: the second pass
    must not reuse memory the first pass's graph still needs."""
    moe = make_moe(registry, in_dim=12, dim=6, experts=3, dropout_masks=dropout_masks, noisy_gate=False)
    with torch.no_grad():
        moe.gate.normal_()
    first, second = torch.randn(20, 12), torch.randn(20, 12)
    torch.manual_seed(4)
    (moe(first).square().sum() + moe(second).pow(3).sum()).backward()
    together = {name: parameter.grad.clone() for name, parameter in moe.named_parameters() if parameter.grad is not None}
    moe.zero_grad()
    torch.manual_seed(4)
    moe(first).square().sum().backward()
    moe(second).pow(3).sum().backward()
    for name, grad in together.items():
        assert torch.allclose(grad, getattr(moe, name).grad, rtol=1e-5, atol=1e-6), name


def _mixture_with_plain_autograd(moe, x):
    """The mixture as plain autograd operations, fresh tensors and all (what MixedExperts replaces)."""
    gates = moe.gates(x)
    k, in_dim, dim = moe.weight.shape
    low_precision = moe.config.precision == "bfloat16"
    inputs = x.to(torch.bfloat16) if low_precision else x
    weight = moe.weight.to(torch.bfloat16) if low_precision else moe.weight
    if moe.training and moe.config.dropout and moe.config.dropout_masks == "independent":
        experts = torch.bmm(dropout_copies(inputs, k, moe.config.dropout), weight)
    else:
        inputs = dropout_once(inputs, moe.config.dropout) if moe.training and moe.config.dropout else inputs
        experts = (inputs @ weight.permute(1, 0, 2).reshape(in_dim, k * dim)).view(-1, k, dim).transpose(0, 1)
    mixed = torch.bmm(gates.unsqueeze(1), experts.to(gates.dtype).transpose(0, 1)).squeeze(1)
    if moe.center is not None:
        mixed = mixed - gates @ torch.bmm(moe.center[:, None, :], moe.weight).squeeze(1)
    if moe.bias is not None:
        mixed = mixed + gates @ moe.bias
    return mixed


@pytest.mark.parametrize("dropout", [0.2, 0.0])
@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
@pytest.mark.parametrize("dropout_masks", ["independent", "shared"])
@pytest.mark.parametrize("expert", ["whitening", "linear"])
def test_workspace_mixture_equals_plain_autograd_bit_for_bit(registry, expert, dropout_masks, precision, dropout):
    """Outputs and every gradient are the very bits plain autograd gives, over two steps (the second reusing
    the first's memory)."""
    moe = make_moe(registry, in_dim=40, dim=24, experts=4, expert=expert, dropout_masks=dropout_masks,
                   precision=precision, dropout=dropout)
    with torch.no_grad():
        for parameter in moe.parameters():
            parameter.normal_(std=0.3)
    x = torch.randn(70, 40)
    weights = torch.linspace(-1, 1, 70 * 24).view(70, 24)
    runs = []
    for forward in (moe, lambda features: _mixture_with_plain_autograd(moe, features)):
        moe.zero_grad(set_to_none=True)
        torch.manual_seed(9)
        outputs = []
        for _ in range(2):  # two training steps' passes, gradients accumulated
            output = forward(x)
            (output * weights).sum().backward()
            outputs.append(output.detach())
        runs.append((outputs,
                     {name: parameter.grad.clone() for name, parameter in moe.named_parameters()}))
    (ours, our_grads), (plain, plain_grads) = runs
    assert all(torch.equal(a, b) for a, b in zip(ours, plain))
    for name, grad in plain_grads.items():
        assert torch.equal(our_grads[name], grad), name


@pytest.mark.parametrize("dropout_masks", ["independent", "shared"])
def test_inputs_that_need_a_gradient_get_plain_autograds_gradient(registry, dropout_masks):
    """Features are frozen in antkit, but an adaptor fed trainable inputs passes them the very gradient plain
    autograd would; a second derivative through the mixture is refused with a clear error."""
    moe = make_moe(registry, in_dim=20, dim=12, experts=3, dropout_masks=dropout_masks)
    with torch.no_grad():
        for parameter in moe.parameters():
            parameter.normal_(std=0.3)
    grads = []
    for forward in (moe, lambda features: _mixture_with_plain_autograd(moe, features)):
        x = torch.randn(15, 20, generator=torch.Generator().manual_seed(1)).requires_grad_()
        torch.manual_seed(3)
        forward(x).square().sum().backward()
        grads.append(x.grad)
    assert torch.equal(grads[0], grads[1])
    x = torch.randn(15, 20, requires_grad=True)
    (first,) = torch.autograd.grad(moe(x).square().sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        first.sum().backward()

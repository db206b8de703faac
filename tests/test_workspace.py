"""Scratch buffers reused between training steps, never while something still uses them."""

import copy
import pickle

import torch

from antkit.model.workspace import Workspace


def test_a_free_buffer_is_handed_out_again():
    workspace = Workspace()
    first = workspace.take("x", (4, 5), torch.float32, torch.device("cpu"))
    pointer = first.data_ptr()
    del first
    again = workspace.take("x", (2, 3), torch.float32, torch.device("cpu"))  # smaller: the same memory
    assert again.data_ptr() == pointer and again.shape == (2, 3)


def test_a_buffer_still_in_use_is_not_handed_out():
    """A view somebody kept, or a tensor a graph saved for its backward pass, keeps the buffer out of reuse."""
    workspace = Workspace()
    kept = workspace.take("x", (10,), torch.float32, torch.device("cpu"))
    assert workspace.take("x", (10,), torch.float32, torch.device("cpu")).data_ptr() != kept.data_ptr()
    weight = torch.ones(10, requires_grad=True)
    saved = workspace.take("y", (10,), torch.float32, torch.device("cpu")).fill_(2.0)
    loss = (saved * weight).sum()  # the product saves `saved` for weight's gradient
    del saved
    workspace.take("y", (10,), torch.float32, torch.device("cpu")).fill_(-1.0)  # must not overwrite it
    loss.backward()
    assert torch.equal(weight.grad, torch.full((10,), 2.0))


def test_a_larger_size_or_another_dtype_gets_new_memory_and_clear_lets_it_go():
    workspace = Workspace()
    cpu = torch.device("cpu")
    small = workspace.take("x", (8,), torch.float32, cpu).data_ptr()
    larger = workspace.take("x", (9,), torch.float32, cpu)
    assert larger.data_ptr() != small
    assert workspace.take("x", (9,), torch.int16, cpu).dtype == torch.int16
    workspace.clear()
    assert workspace._buffers == {}


def test_copies_and_pickles_start_empty():
    workspace = Workspace()
    workspace.take("x", (1000,), torch.float32, torch.device("cpu"))
    assert copy.deepcopy(workspace)._buffers == {}
    assert pickle.loads(pickle.dumps(workspace))._buffers == {}

"""Tests for vis.hooks: every capture checked against a direct call of the layer.

torchvision's ResNet-18 (random weights: the point is the mechanism) has the two traps
the recorder must avoid: `ReLU(inplace=True)` after batch norm, and one ReLU module
called twice per block.
"""

import pytest
import torch
from torch import nn
from torchvision.models import resnet18

from vis.hooks import ActivationRecorder, record, select_layers


@pytest.fixture(scope="module")
def resnet() -> nn.Module:
    torch.manual_seed(0)
    return resnet18(weights=None).eval()


def hook_count(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) for m in model.modules())


def test_capture_equals_direct_call_of_the_layer(lite0) -> None:
    x = torch.randn(1, 3, 64, 80, generator=torch.Generator().manual_seed(1))
    _, activations = record(lite0.module, x, ["stages.2", "stages.3"])
    with torch.inference_mode():
        expected = lite0.module.stages[3](activations["stages.2"])
    torch.testing.assert_close(activations["stages.3"], expected, rtol=0, atol=0)
    assert activations["stages.3"].shape == (1, 80, 4, 5)


def test_inplace_relu_does_not_overwrite_the_capture(resnet) -> None:
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    _, activations = record(resnet, x, ["bn1", "relu"])
    # relu runs in place on bn1's output: a live reference would have lost the
    # negative values
    assert resnet.relu.inplace
    assert (activations["bn1"] < 0).any()
    with torch.inference_mode():
        expected_bn1 = resnet.bn1(resnet.conv1(x))
    torch.testing.assert_close(activations["bn1"], expected_bn1)
    torch.testing.assert_close(activations["relu"], expected_bn1.clamp(min=0))


def test_reused_relu_is_recorded_once_per_call(resnet) -> None:
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(3))
    _, activations = record(resnet, x, ["maxpool", "layer1.0.relu"])
    assert list(activations) == ["maxpool", "layer1.0.relu#1", "layer1.0.relu#2"]

    block, identity = resnet.layer1[0], activations["maxpool"]
    with torch.inference_mode():
        first = torch.relu(block.bn1(block.conv1(identity)))
        second = torch.relu(block.bn2(block.conv2(first)) + identity)
    torch.testing.assert_close(activations["layer1.0.relu#1"], first)
    torch.testing.assert_close(activations["layer1.0.relu#2"], second)


def test_hooks_removed_after_success_and_after_an_error(resnet) -> None:
    record(resnet, torch.zeros(1, 3, 32, 32), ["conv1", "layer1", "layer4"])
    assert hook_count(resnet) == 0

    with pytest.raises(RuntimeError):  # 4 input channels for a 3-channel conv
        record(resnet, torch.zeros(1, 4, 32, 32), ["conv1", "layer1"])
    assert hook_count(resnet) == 0

    with pytest.raises(ZeroDivisionError):
        with ActivationRecorder(resnet, ["conv1"]):
            assert hook_count(resnet) == 1
            raise ZeroDivisionError
    assert hook_count(resnet) == 0


def test_callers_train_mode_is_restored() -> None:
    torch.manual_seed(4)
    model = resnet18(weights=None).train()
    model.layer2.eval()  # a mixed state comes back mixed
    running_mean = model.bn1.running_mean.clone()

    record(model, torch.randn(2, 3, 32, 32), ["layer1"])
    assert model.training and model.layer1.training and model.bn1.training
    assert not model.layer2.training and not model.layer2[0].bn1.training
    # the forward pass ran in eval mode: batch norm statistics are untouched
    torch.testing.assert_close(model.bn1.running_mean, running_mean)


def test_unknown_layer_lists_close_names(lite0) -> None:
    with pytest.raises(
        ValueError,
        match=r"^unknown layer 'stage\.3' \(close names: stages\.3.*\); run with "
        r"--list-layers to see them all$",
    ):
        select_layers(lite0.module, ["stem", "stage.3"])
    assert select_layers(lite0.module, ["stages.?"]) == [
        f"stages.{i}" for i in range(7)
    ]


def test_globs_stay_within_one_dotted_part(lite0) -> None:
    module = lite0.module
    assert select_layers(module, ["stages.*"]) == [f"stages.{i}" for i in range(7)]
    blocks = select_layers(module, ["stages.*.*"])
    assert len(blocks) == 16  # EfficientNet-Lite0's 1+2+2+3+3+4+1 blocks
    assert select_layers(module, ["stages.?.0.project"])[0] == "stages.0.0.project"
    assert select_layers(module, ["all"])[:3] == ["stem", "stem.conv", "stem.bn"]

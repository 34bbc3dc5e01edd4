"""Tests for vis.gradcam, against Grad-CAM computed by hand on a model split at a layer.

The hand computation runs the model's parts one by one, takes the activation A as a
leaf, and gets d(logit)/dA from torch.autograd.grad: no hooks involved.
"""

from pathlib import Path

import pytest
import skimage.data
import torch
import torchvision
from PIL import Image

from vis.gradcam import class_index, grad_cam, upsample_cam

MOTORCYCLE = Path(skimage.data.__file__).parent / "motorcycle_left.png"
MOTORBIKE = (90, 60, 690, 455)  # the whole motorbike in the 741×500 photo, by eye


def cam_by_hand(activation: torch.Tensor, rest) -> torch.Tensor:
    """Grad-CAM of the logit `rest(A)` for the 1×C×H×W activation A."""
    activation = activation.detach().requires_grad_(True)
    (gradient,) = torch.autograd.grad(rest(activation), activation)
    weights = gradient[0].mean(dim=(1, 2))  # C
    cam = torch.relu((weights[:, None, None] * activation[0].detach()).sum(0))
    assert cam.max() > 0, "pick an input with some positive evidence"
    return cam / cam.max()


@pytest.fixture(scope="module")
def small_input(lite0) -> torch.Tensor:
    """The motorcycle photo, 128 pixels high."""
    return lite0.preprocess(Image.open(MOTORCYCLE).convert("RGB"), 128)[None]


@pytest.mark.parametrize("stage", [4, 6])
def test_matches_a_hand_computation_on_efficientnet(lite0, small_input, stage):
    net = lite0.module
    with torch.no_grad():
        activation = net.stages[: stage + 1](net.stem(small_input))

    def rest(a: torch.Tensor) -> torch.Tensor:
        features = net.head(net.stages[stage + 1 :](a))
        return net.classifier(net.pool(features).flatten(1))[0, 665]

    cam, logits = grad_cam(net, small_input, f"stages.{stage}", 665)
    expected = cam_by_hand(activation, rest)
    assert cam.shape == expected.shape == activation.shape[-2:]
    torch.testing.assert_close(cam, expected, atol=1e-5, rtol=1e-4)
    with torch.no_grad():
        torch.testing.assert_close(logits, net(small_input))


@pytest.fixture
def resnet() -> torchvision.models.ResNet:
    """Random ResNet-18: in-place ReLUs, and each block calls its ReLU twice."""
    torch.manual_seed(0)
    return torchvision.models.resnet18(num_classes=10).eval()


def resnet_to_layer4_1(net, x: torch.Tensor) -> torch.Tensor:
    stem = net.maxpool(net.relu(net.bn1(net.conv1(x))))
    return net.layer4[0](net.layer3(net.layer2(net.layer1(stem))))


def resnet_head(net, out: torch.Tensor) -> torch.Tensor:
    return net.fc(torch.flatten(net.avgpool(out), 1))[0, 3]


def test_resnet_reused_and_in_place_layers_match_hand_computations(resnet):
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    block = resnet.layer4[1]
    with torch.no_grad():
        h = resnet_to_layer4_1(resnet, x)
        first_relu = block.relu(block.bn1(block.conv1(h)))
        bn2 = block.bn2(block.conv2(first_relu))
        out = torch.relu(bn2 + h)

    # the block's output: layer4, and the second (last) call of its ReLU
    expected = cam_by_hand(out, lambda a: resnet_head(resnet, a))
    for name in ["layer4", "layer4.1.relu#2", "layer4.1.relu"]:
        torch.testing.assert_close(grad_cam(resnet, x, name, 3)[0], expected)

    # the first call of the ReLU, whose output is overwritten by nothing later
    expected = cam_by_hand(
        first_relu,
        lambda a: resnet_head(resnet, torch.relu(block.bn2(block.conv2(a)) + h)),
    )
    torch.testing.assert_close(grad_cam(resnet, x, "layer4.1.relu#1", 3)[0], expected)

    # bn2's output is changed in place afterwards (`out += identity`, then ReLU)
    expected = cam_by_hand(bn2, lambda a: resnet_head(resnet, torch.relu(a + h)))
    torch.testing.assert_close(grad_cam(resnet, x, "layer4.1.bn2", 3)[0], expected)


def test_leaves_no_hooks_grads_or_changed_flags(resnet):
    x = torch.randn(1, 3, 64, 64)
    resnet.train()
    resnet.layer2.eval()
    flags = {name: m.training for name, m in resnet.named_modules()}
    running_mean = resnet.bn1.running_mean.clone()

    grad_cam(resnet, x, "layer4.1.relu#1", 0)
    with pytest.raises(ValueError, match="class index 10 is out of range"):
        grad_cam(resnet, x, "layer4", 10)

    assert {name: m.training for name, m in resnet.named_modules()} == flags
    assert all(not m._forward_hooks for m in resnet.modules())
    assert all(p.grad is None for p in resnet.parameters())
    torch.testing.assert_close(resnet.bn1.running_mean, running_mean)  # ran in eval


def test_works_inside_inference_mode(resnet):
    x = torch.randn(1, 3, 64, 64)
    expected, _ = grad_cam(resnet, x, "layer4", 2)
    with torch.inference_mode():
        cam, _ = grad_cam(resnet, x, "layer4", 2)
    torch.testing.assert_close(cam, expected)


@pytest.mark.parametrize(
    "layer_name, match",
    [
        ("layer5", r"unknown layer 'layer5' \(close names: layer4, layer3"),
        ("layer4.1.relu#3", r"asks for call 3, but the module ran 2 time\(s\)"),
        ("layer4.1.relu#0", r"has call number '0'; write name#k with k = 1"),
        ("layer4.1.relu#x", r"has call number 'x'"),
    ],
)
def test_layer_errors(resnet, layer_name, match):
    with pytest.raises(ValueError, match=match):
        grad_cam(resnet, torch.randn(1, 3, 64, 64), layer_name, 0)


def test_class_index_by_name(lite0):
    assert class_index("moped", lite0.categories) == 665
    assert class_index("Car Wheel", lite0.categories) == 479
    assert class_index(" sports car ", lite0.categories) == 817


def test_class_index_unknown_names_close_ones(lite0):
    with pytest.raises(
        ValueError,
        match=r"unknown class 'wheel' \(close names: car wheel, paddlewheel, "
        r"pinwheel, potter's wheel",
    ):
        class_index("wheel", lite0.categories)
    with pytest.raises(ValueError, match=r"'qqqq' \(no close names\)"):
        class_index("qqqq", lite0.categories)


def test_upsample_cam_keeps_range_and_size():
    cam = torch.tensor([[0.0, 1.0], [0.5, 0.25]])
    up = upsample_cam(cam, (8, 12))
    assert up.shape == (8, 12)
    assert up.min() >= 0 and up.max() <= 1
    assert up[0, -1] == pytest.approx(1.0)  # corners keep their cell's value


def test_moped_evidence_lies_on_the_motorbike(lite0):
    image = Image.open(MOTORCYCLE).convert("RGB")
    x = lite0.preprocess(image)[None]
    moped = class_index("moped", lite0.categories)

    cam, logits = grad_cam(lite0.module, x, "head", moped)
    assert logits.argmax().item() == moped  # the top class of this photo

    # the peak, in photo pixels, falls inside the box drawn around the motorbike
    up = upsample_cam(cam, (image.height, image.width))
    y, x_ = divmod(int(up.argmax()), image.width)
    x0, y0, x1, y1 = MOTORBIKE
    assert x0 <= x_ <= x1 and y0 <= y <= y1
    assert up[:40].max() < 0.5  # and the shelves along the top edge stay cool

"""Networks written as torchvision writes them, for the peer-tool tests (tests/test_peer_tools.py).

Layers are nn.Modules (Conv2d, BatchNorm2d, ReLU(inplace=True), MaxPool2d, AdaptiveAvgPool2d((1, 1)), Linear);
residual additions (`out += identity`) and flatten (`torch.flatten(x, 1)`) are plain tensor operations, and a
block reuses its one ReLU module, as torchvision's ResNet does. Built here by hand, independently of hetcalc's specs.
"""

import torch
from torch import nn


def conv_bn_relu(cin, cout, k=3, stride=1, padding=None, groups=1, bias=False, bn=True, relu=True):
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2 if padding is None else padding, groups=groups, bias=bias)]
    if bn:
        layers.append(nn.BatchNorm2d(cout))
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return layers


class Bottleneck(nn.Module):
    """torchvision's v1.5 bottleneck: the stride on the 3x3 convolution."""

    def __init__(self, cin, width, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class BasicBlock(nn.Module):
    """torchvision's basic block; `shortcut='zero_pad'` is He et al.'s CIFAR option A (subsample, pad)."""

    def __init__(self, cin, cout, stride, shortcut="projection"):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.stride, self.pad, self.shortcut = stride, cout - cin, shortcut
        self.downsample = None
        if shortcut == "projection" and (stride != 1 or cin != cout):
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        elif self.shortcut == "zero_pad" and (self.stride != 1 or self.pad):
            identity = nn.functional.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, 0, self.pad))
        out += identity
        return self.relu(out)


class ResNet(nn.Module):
    def __init__(self, stem, stages, head_in, classes):
        super().__init__()
        self.stem = nn.Sequential(*stem)
        self.layers = nn.Sequential(*stages)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(head_in, classes)

    def forward(self, x):
        x = self.layers(self.stem(x))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


def resnet50(classes=1000):
    stem = [*conv_bn_relu(3, 64, 7, 2, 3), nn.MaxPool2d(3, 2, 1)]
    blocks, cin = [], 64
    for width, repeat, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for j in range(repeat):
            blocks.append(Bottleneck(cin, width, 4 * width, stride if j == 0 else 1))
            cin = 4 * width
    return ResNet(stem, blocks, 2048, classes)


def resnet34(classes=1000):
    stem = [*conv_bn_relu(3, 64, 7, 2, 3), nn.MaxPool2d(3, 2, 1)]
    blocks, cin = [], 64
    for width, repeat, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for j in range(repeat):
            blocks.append(BasicBlock(cin, width, stride if j == 0 else 1))
            cin = width
    return ResNet(stem, blocks, 512, classes)


def resnet56(classes=10):
    stem = conv_bn_relu(3, 16)
    blocks, cin = [], 16
    for width, stride in ((16, 1), (32, 2), (64, 2)):
        for j in range(9):
            blocks.append(BasicBlock(cin, width, stride if j == 0 else 1, shortcut="zero_pad"))
            cin = width
    return ResNet(stem, blocks, 64, classes)


class VGG(nn.Module):
    """torchvision's VGG: features, flatten, classifier (dropout costs nothing and is left out)."""

    def __init__(self, features, classifier):
        super().__init__()
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(*classifier)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


VGG_D = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def vgg_features(bn, groups=None):
    """VGG-16's features; with `groups` (an int or 'dw') every conv but the first is grouped 3x3 + 1x1."""
    layers, c, first = [], 3, True
    for v in VGG_D:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
            continue
        if first or groups is None:
            layers += conv_bn_relu(c, v, bias=True, bn=bn)
        else:
            g = c if groups == "dw" else groups
            layers += conv_bn_relu(c, c, groups=g, bias=True, bn=bn) + conv_bn_relu(c, v, 1, bias=True, bn=bn)
        first, c = False, v
    return layers


def vgg16_imagenet(size=224):
    """torchvision's vgg16, without its AdaptiveAvgPool2d((7, 7)) (an identity at 224 x 224, and not in the
    spec: the tools count it, see docs/conventions.md)."""
    flat = 512 * (size // 32) ** 2
    return VGG(vgg_features(bn=False), [nn.Linear(flat, 4096), nn.ReLU(True), nn.Linear(4096, 4096),
                                        nn.ReLU(True), nn.Linear(4096, 1000)])


def vgg16_cifar(groups=None):
    """Li et al.'s VGG-16 for CIFAR-10 (BatchNorm, bias, classifier 512-512-10)."""
    return VGG(vgg_features(bn=True, groups=groups), [nn.Linear(512, 512), nn.ReLU(True), nn.Linear(512, 10)])


MOBILENET = [64, (128, 2), 128, (256, 2), 256, (512, 2), 512, 512, 512, 512, 512, (1024, 2), 1024]


class Classifier(nn.Module):
    """features, global average pool, flatten, linear."""

    def __init__(self, features, head_in, classes):
        super().__init__()
        self.features = nn.Sequential(*features)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(head_in, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.avgpool(self.features(x)), 1))


def mobilenet(depthwise=True, classes=10):
    """MobileNet v1 for CIFAR-10; depthwise=False is its dense 'standard' variant (3x3 M -> N)."""
    layers, c = conv_bn_relu(3, 32), 32
    for v in MOBILENET:
        out, stride = v if isinstance(v, tuple) else (v, 1)
        if depthwise:
            layers += conv_bn_relu(c, c, 3, stride, groups=c) + conv_bn_relu(c, out, 1)
        else:
            layers += conv_bn_relu(c, out, 3, stride)
        c = out
    return Classifier(layers, 1024, classes)


# ---------------------------------------------------------------- the networks of tests/specs/


def lenet_avgpool():
    return VGG([nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(True), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(True),
                nn.AvgPool2d(2)],
               [nn.Linear(400, 120), nn.ReLU(True), nn.Linear(120, 84), nn.ReLU(True), nn.Linear(84, 10)])


class Residual(nn.Module):
    def __init__(self, body, shortcut=None):
        super().__init__()
        self.body = nn.Sequential(*body)
        self.shortcut = None if shortcut is None else nn.Sequential(*shortcut)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        out = self.body(x)
        out += x if self.shortcut is None else self.shortcut(x)
        return self.relu(out)


class GlobalMaxNet(nn.Module):
    def __init__(self, features, head_in, classes, bias):
        super().__init__()
        self.features = nn.Sequential(*features)
        self.pool = nn.AdaptiveMaxPool2d((1, 1))
        self.fc = nn.Linear(head_in, classes, bias=bias)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))


def resblocks_maxpool():
    features = [*conv_bn_relu(3, 24, 3, 2), nn.MaxPool2d(3, 2, 1),
                Residual(conv_bn_relu(24, 48, 3, 2) + conv_bn_relu(48, 48, relu=False),
                         conv_bn_relu(24, 48, 1, 2, relu=False))]
    features += [Residual(conv_bn_relu(48, 48, 1) + conv_bn_relu(48, 48, relu=False)) for _ in range(2)]
    return GlobalMaxNet(features, 48, 100, bias=False)


def separable_relu6():
    def block(cin, cout, stride):
        return [nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False), nn.BatchNorm2d(cin), nn.ReLU6(True),
                nn.Conv2d(cin, cout, 1, bias=True), nn.BatchNorm2d(cout), nn.ReLU6(True)]
    features = [nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6(True),
                *block(16, 32, 1), *block(32, 64, 2), *block(64, 64, 1)]
    return Classifier(features, 64, 20)


ACTIVATIONS = {"relu": nn.ReLU, "relu6": nn.ReLU6, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "gelu": nn.GELU,
               "silu": nn.SiLU, "hardswish": nn.Hardswish, "leaky_relu": nn.LeakyReLU}


def activations():
    layers, c = [], 3
    for kind in ("relu", "relu6", "sigmoid", "tanh", "gelu", "silu", "hardswish", "leaky_relu"):
        layers += [nn.Conv2d(c, 8, 3, 1, 1), ACTIVATIONS[kind]()]
        c = 8
    return nn.Sequential(nn.Sequential(*layers), nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(8, 4),
                         nn.GELU())

"""Small torchvision-style networks, written out here (torchvision from PyPI does not import beside the
pinned torch). Used by tests/test_torch_import.py and tests/onnx/make_corpus.py. Widths and inputs are
small so that every export takes a fraction of a second.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn(cin, cout, k=3, s=1, p=None, groups=1, dilation=1, act=True):
    p = (k // 2) * dilation if p is None else p
    layers = [nn.Conv2d(cin, cout, k, s, p, dilation=dilation, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if act:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin, planes, stride=1, groups=1, base_width=64):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != planes:
            self.downsample = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, planes, stride=1, groups=1, base_width=64, se=False):
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        out = planes * self.expansion
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.se = SqueezeExcitation(out, max(out // 4, 1)) if se else None
        self.downsample = None
        if stride != 1 or cin != out:
            self.downsample = nn.Sequential(nn.Conv2d(cin, out, 1, stride, bias=False), nn.BatchNorm2d(out))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        if self.se is not None:
            y = self.se(y)
        return self.relu(y + identity)


class SqueezeExcitation(nn.Module):
    """torchvision.ops.SqueezeExcitation."""

    def __init__(self, channels, squeeze):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.relu = nn.ReLU()
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        return x * self.sigmoid(self.fc2(self.relu(self.fc1(self.avgpool(x)))))


class ResNet(nn.Module):
    def __init__(self, block, layers, widths=(16, 32, 64, 128), num_classes=10, groups=1, width_per_group=64,
                 se=False):
        super().__init__()
        self.conv1 = nn.Conv2d(3, widths[0], 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = widths[0]
        stages = []
        for i, (planes, n) in enumerate(zip(widths, layers)):
            blocks = []
            for j in range(n):
                kwargs = dict(groups=groups, base_width=width_per_group)
                if se:
                    kwargs["se"] = True
                blocks.append(block(cin, planes, 2 if (j == 0 and i > 0) else 1, **kwargs))
                cin = planes * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def resnet18():
    return ResNet(BasicBlock, [2, 2, 2, 2])


def resnet50():
    return ResNet(Bottleneck, [3, 4, 6, 3], widths=(64, 128, 256, 512), num_classes=1000)


def resnet_small_bottleneck():
    return ResNet(Bottleneck, [1, 1, 1, 1])


def resnext():
    return ResNet(Bottleneck, [1, 2, 1, 1], groups=4, width_per_group=4)


def wide_resnet():
    return ResNet(Bottleneck, [1, 1, 1, 1], width_per_group=128)


def se_resnet():
    return ResNet(Bottleneck, [1, 1, 1, 1], se=True)


class VGG(nn.Module):
    """torchvision's VGG with batch norm, config A shrunk, adaptive pooling to 2 x 2."""

    def __init__(self, cfg=(16, "M", 32, "M", 64, 64, "M", 128, 128, "M"), num_classes=10):
        super().__init__()
        layers, cin = [], 3
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(cin, v, 3, padding=1), nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
                cin = v
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((2, 2))
        self.classifier = nn.Sequential(nn.Linear(cin * 4, 64), nn.ReLU(True), nn.Dropout(), nn.Linear(64, num_classes))

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(x.view(x.size(0), -1))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        self.use_res = stride == 1 and cin == cout
        layers = []
        if expand != 1:
            layers += [nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(inplace=True)]
        layers += [nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), nn.BatchNorm2d(hidden),
                   nn.ReLU6(inplace=True), nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res else self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        cfg = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 2, 2)]
        layers = [nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6(inplace=True))]
        cin = 16
        for t, c, n, s in cfg:
            for i in range(n):
                layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        layers.append(nn.Sequential(nn.Conv2d(cin, 64, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU6(inplace=True)))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(64, num_classes))

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(torch.flatten(x, 1))


class InceptionBlock(nn.Module):
    """GoogLeNet's inception module: four branches concatenated (a 5x5 and an avg-pool branch)."""

    def __init__(self, cin, c1, c3r, c3, c5r, c5, pool_proj):
        super().__init__()
        self.b1 = conv_bn(cin, c1, 1)
        self.b2 = nn.Sequential(conv_bn(cin, c3r, 1), conv_bn(c3r, c3, 3))
        self.b3 = nn.Sequential(conv_bn(cin, c5r, 1), conv_bn(c5r, c5, 5))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), conv_bn(cin, pool_proj, 1))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


class Inception(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(conv_bn(3, 16, 3, 2), nn.MaxPool2d(3, 2, ceil_mode=True))
        self.a = InceptionBlock(16, 8, 8, 16, 4, 8, 8)
        self.b = InceptionBlock(40, 16, 16, 24, 4, 8, 8)
        self.fc = nn.Linear(56, 10)

    def forward(self, x):
        x = self.b(self.a(self.stem(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class DenseLayer(nn.Module):
    """DenseNet's pre-activation layer: BN-ReLU-1x1 conv, BN-ReLU-3x3 conv, concatenated to its input."""

    def __init__(self, cin, growth, bn_size=2):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, bn_size * growth, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth)
        self.conv2 = nn.Conv2d(bn_size * growth, growth, 3, padding=1, bias=False)

    def forward(self, x):
        y = self.conv1(F.relu(self.norm1(x)))
        y = self.conv2(F.relu(self.norm2(y)))
        return torch.cat([x, y], 1)


class DenseNet(nn.Module):
    def __init__(self, growth=8):
        super().__init__()
        self.conv0 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        layers, c = [], 16
        for _ in range(3):
            layers.append(DenseLayer(c, growth))
            c += growth
        self.block1 = nn.Sequential(*layers)
        self.trans = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(), nn.Conv2d(c, c // 2, 1, bias=False),
                                   nn.AvgPool2d(2, 2))
        c //= 2
        layers = []
        for _ in range(2):
            layers.append(DenseLayer(c, growth))
            c += growth
        self.block2 = nn.Sequential(*layers)
        self.norm = nn.BatchNorm2d(c)
        self.fc = nn.Linear(c, 10)

    def forward(self, x):
        x = self.norm(self.block2(self.trans(self.block1(self.conv0(x)))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(F.relu(x), (1, 1)), 1))


class UNet(nn.Module):
    """A small UNet: dilated bottleneck, bilinear Resize and nearest upsampling, concatenated skips."""

    def __init__(self):
        super().__init__()
        self.enc1 = nn.Sequential(conv_bn(3, 8), conv_bn(8, 8))
        self.enc2 = nn.Sequential(conv_bn(8, 16), conv_bn(16, 16))
        self.mid = nn.Sequential(conv_bn(16, 32, dilation=2), conv_bn(32, 32, dilation=3))
        self.dec2 = nn.Sequential(conv_bn(48, 16), conv_bn(16, 16))
        self.dec1 = nn.Sequential(conv_bn(24, 8), conv_bn(8, 8))
        self.head = nn.Conv2d(8, 2, 1)
        self.pad = nn.ZeroPad2d((0, 1, 0, 1))

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        m = self.mid(F.max_pool2d(e2, 2))
        d2 = self.dec2(torch.cat([F.interpolate(m, scale_factor=2, mode="bilinear", align_corners=False), e2], 1))
        d1 = self.dec1(torch.cat([F.interpolate(d2, scale_factor=2, mode="nearest"), e1], 1))
        return self.head(self.pad(d1)[:, :, :-1, :-1])


MODELS = {
    "resnet18": (resnet18, (3, 32, 32)),
    "resnet_bottleneck": (resnet_small_bottleneck, (3, 32, 32)),
    "resnext": (resnext, (3, 32, 32)),
    "wide_resnet": (wide_resnet, (3, 32, 32)),
    "se_resnet": (se_resnet, (3, 32, 32)),
    "vgg": (VGG, (3, 32, 32)),
    "mobilenet_v2": (MobileNetV2, (3, 32, 32)),
    "inception": (Inception, (3, 33, 33)),
    "densenet": (DenseNet, (3, 16, 16)),
    "unet": (UNet, (3, 32, 32)),
}


def hooked_counts(model, shape):
    """Per conv (in execution order): M, N, kernel, groups, output area, bias, whether a BatchNorm reads
    its output directly; plus the linear layers' MACs and the model's sum(numel())."""
    convs, linears, keep = [], [], []
    by_output = {}

    def on_conv(module, inputs, output):
        keep.append(output)  # keep the tensor alive, so its id() stays unique
        record = dict(M=inputs[0].shape[1], N=output.shape[1], k=module.kernel_size, g=module.groups,
                      area=output.shape[2] * output.shape[3], bias=module.bias is not None, bn=False)
        convs.append(record)
        by_output[id(output)] = record

    def on_bn(module, inputs, output):
        record = by_output.get(id(inputs[0]))
        if record is not None:
            record["bn"] = True

    def on_linear(module, inputs, output):
        linears.append(module.in_features * module.out_features)

    handles = []
    for module in model.modules():
        if isinstance(module, torch.nn.Conv2d):
            handles.append(module.register_forward_hook(on_conv))
        elif isinstance(module, torch.nn.BatchNorm2d):
            handles.append(module.register_forward_hook(on_bn))
        elif isinstance(module, torch.nn.Linear):
            handles.append(module.register_forward_hook(on_linear))
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, *shape))
    for h in handles:
        h.remove()
    params = sum(p.numel() for p in model.parameters())
    return convs, sum(linears), params

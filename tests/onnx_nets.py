"""Reference networks as plain ``torch.nn`` definitions (no weights, no torchvision).

The shapes follow the papers and torchvision's layouts, so an exported network
can be checked against archgym's built-in layer tables and graphs of the same
name:

* ResNet-18/50 (He et al. 2016): torchvision's v1.5 layout (the bottleneck's
  stride on its 3x3 conv), 1x1 projection shortcuts on down-sampling blocks;
* MobileNetV2 (Sandler et al. 2018, Table 2, width 1.0): torchvision's layout
  (no expansion conv in the first block, ReLU6, a 1x1 conv to 1280 channels);
* GoogLeNet (Szegedy et al. 2015, Table 1) with batch norm instead of LRN as
  torchvision, but with the paper's 5x5 convolution in the third branch
  (torchvision keeps a 3x3 there for weight compatibility) and 3x3/2 max
  pooling before modules 4a and 5a, as archgym's built-in graph.

Used by the ONNX tests and by ``experiments/benchmarks/workloads.py``.
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["resnet18", "resnet50", "mobilenet_v2", "googlenet", "NETWORKS"]


def _conv_bn(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1, act: type | None = nn.ReLU) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
                               nn.BatchNorm2d(cout)]
    if act is not None:
        layers.append(act(inplace=True))
    return nn.Sequential(*layers)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin: int, width: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = (nn.Sequential(nn.Conv2d(cin, width, 1, stride, bias=False), nn.BatchNorm2d(width))
                           if stride != 1 or cin != width else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        short = self.downsample(x) if self.downsample is not None else x
        return self.relu(y + short)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin: int, width: int, stride: int) -> None:
        super().__init__()
        cout = width * 4
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                           if stride != 1 or cin != cout else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        short = self.downsample(x) if self.downsample is not None else x
        return self.relu(y + short)


class ResNet(nn.Module):
    def __init__(self, block: type, blocks: list[int], classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = 64
        for s, n in enumerate(blocks):
            stage = []
            for i in range(n):
                stage.append(block(cin, 64 * 2 ** s, 2 if (i == 0 and s > 0) else 1))
                cin = 64 * 2 ** s * block.expansion
            setattr(self, f"layer{s + 1}", nn.Sequential(*stage))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def resnet18() -> nn.Module:
    return ResNet(BasicBlock, [2, 2, 2, 2])


def resnet50() -> nn.Module:
    return ResNet(Bottleneck, [3, 4, 6, 3])


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, t: int) -> None:
        super().__init__()
        hidden = cin * t
        layers: list[nn.Module] = [_conv_bn(cin, hidden, 1, act=nn.ReLU6)] if t != 1 else []
        layers += [_conv_bn(hidden, hidden, 3, stride, groups=hidden, act=nn.ReLU6), _conv_bn(hidden, cout, 1, act=None)]
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.residual else self.conv(x)


class MobileNetV2(nn.Module):
    SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                (6, 320, 1, 1)]

    def __init__(self, classes: int = 1000) -> None:
        super().__init__()
        feats: list[nn.Module] = [_conv_bn(3, 32, 3, 2, act=nn.ReLU6)]
        cin = 32
        for t, c, n, s in self.SETTINGS:
            for i in range(n):
                feats.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        feats.append(_conv_bn(cin, 1280, 1, act=nn.ReLU6))
        self.features = nn.Sequential(*feats)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(torch.flatten(x, 1))


def mobilenet_v2() -> nn.Module:
    return MobileNetV2()


class Inception(nn.Module):
    def __init__(self, cin: int, c1: int, r3: int, c3: int, r5: int, c5: int, pp: int) -> None:
        super().__init__()
        self.branch1 = _conv_bn(cin, c1, 1)
        self.branch2 = nn.Sequential(_conv_bn(cin, r3, 1), _conv_bn(r3, c3, 3))
        self.branch3 = nn.Sequential(_conv_bn(cin, r5, 1), _conv_bn(r5, c5, 5))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, 1, 1), _conv_bn(cin, pp, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class GoogLeNet(nn.Module):
    MODULES = {"3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
               "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64), "4c": (128, 128, 256, 24, 64, 64),
               "4d": (112, 144, 288, 32, 64, 64), "4e": (256, 160, 320, 32, 128, 128),
               "5a": (256, 160, 320, 32, 128, 128), "5b": (384, 192, 384, 48, 128, 128)}

    def __init__(self, classes: int = 1000) -> None:
        super().__init__()
        self.stem = nn.Sequential(_conv_bn(3, 64, 7, 2), nn.MaxPool2d(3, 2, 1), _conv_bn(64, 64, 1),
                                  _conv_bn(64, 192, 3), nn.MaxPool2d(3, 2, 1))
        mods: list[nn.Module] = []
        cin = 192
        for name, cfg in self.MODULES.items():
            if name in ("4a", "5a"):
                mods.append(nn.MaxPool2d(3, 2, 1))
            mods.append(Inception(cin, *cfg))
            cin = cfg[0] + cfg[2] + cfg[4] + cfg[5]
        self.inception = nn.Sequential(*mods)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.inception(self.stem(x)))
        return self.fc(self.dropout(torch.flatten(x, 1)))


def googlenet() -> nn.Module:
    return GoogLeNet()


#: torch constructor -> archgym's built-in workload name
NETWORKS = {"resnet18": resnet18, "resnet50": resnet50, "mobilenetv2": mobilenet_v2, "googlenet": googlenet}

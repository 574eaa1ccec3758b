#!/usr/bin/env python3
"""A small torchvision-style ResNet saved by PyTorch, for dlkit's PyTorch weight loader.

Run by hand from the repository root with PyTorch, NumPy and safetensors installed; the
outputs are committed:

    python3 scripts/make_torch_resnet_fixture.py   # writes crates/dlkit-nn/tests/fixtures/torch_resnet/

The network is torchvision's ResNet with BasicBlock, defined here with torchvision's module
names (torchvision itself is not needed): stem conv1 (7x7, stride 2, padding 3, no bias), bn1,
ReLU, max pool (3x3, stride 2, padding 1); layer1 = two blocks of 8 channels; layer2 = one
block of 16 channels with stride 2 and a downsample (1x1 conv stride 2 + batch norm);
adaptive average pool to 1x1, flatten, fc (16 -> 10). Inputs are 3x20x20, so the maps are
20 -> 10 -> 5 -> 3 and the strided layers round down.

Weights are PyTorch's default initialisation under torch.manual_seed(0), then every batch
norm gets gamma ~ U(0.5, 1.5), beta ~ N(0, 0.1), running_mean ~ N(0, 0.1) and running_var ~
U(0.5, 1.5), so that eval mode exercises every statistic. The model runs in eval mode.

Files:
  resnet.safetensors  safetensors.torch.save_file(model.state_dict()) (F32, with the I64
                      num_batches_tracked buffers)
  io.safetensors      inputs_nhwc [4, 20, 20, 3] F32 (the inputs in dlkit's NHWC layout);
                      logits [4, 10] F32 (PyTorch in float32); logits_f64 [4, 10] F64 (the same
                      weights and inputs cast to float64, for an exact check of the mapping)
  versions.json       the versions of PyTorch, NumPy and safetensors that wrote the files
"""

import json
import os

import numpy as np
import safetensors
import torch
from safetensors.torch import save_file
from torch import nn

OUT = os.path.join("crates", "dlkit-nn", "tests", "fixtures", "torch_resnet")
SEED = 0
EXAMPLES = 4
SIZE = 20
CLASSES = 10


def conv3x3(c_in, c_out, stride=1):
    return nn.Conv2d(c_in, c_out, kernel_size=3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    """torchvision.models.resnet.BasicBlock."""

    def __init__(self, c_in, c_out, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(c_in, c_out, stride)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(c_out, c_out)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """torchvision.models.resnet.ResNet with two stages and few channels."""

    def __init__(self, blocks=(2, 1), widths=(8, 16), classes=CLASSES):
        super().__init__()
        self.inplanes = widths[0]
        self.conv1 = nn.Conv2d(3, widths[0], kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(widths[0], blocks[0], stride=1)
        self.layer2 = self._make_layer(widths[1], blocks[1], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[1], classes)

    def _make_layer(self, planes, blocks, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes),
            )
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def main():
    torch.manual_seed(SEED)
    model = ResNet()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.1)
                m.running_mean.normal_(0.0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    model.eval()
    x = torch.randn(EXAMPLES, 3, SIZE, SIZE)
    os.makedirs(OUT, exist_ok=True)
    save_file(model.state_dict(), os.path.join(OUT, "resnet.safetensors"))
    with torch.no_grad():
        logits = model(x)
        logits_f64 = model.double()(x.double())
    save_file(
        {
            "inputs_nhwc": x.permute(0, 2, 3, 1).contiguous(),
            "logits": logits.contiguous(),
            "logits_f64": logits_f64.contiguous(),
        },
        os.path.join(OUT, "io.safetensors"),
    )
    versions = {
        "torch": torch.__version__,
        "numpy": np.__version__,
        "safetensors": safetensors.__version__,
        "seed": SEED,
    }
    with open(os.path.join(OUT, "versions.json"), "w") as f:
        json.dump(versions, f, indent=2)
        f.write("\n")
    print(f"wrote {OUT}: logits[0] = {logits[0].tolist()}")


if __name__ == "__main__":
    main()

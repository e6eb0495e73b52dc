"""Spatial geometry of sliding windows: output sizes, SAME padding and adaptive pooling windows.

Pure integer arithmetic on one axis (or a height and width pair); the callers check and name the values.
"""

from __future__ import annotations


def output_size(size: int, kernel: int, stride: int, padding: int, dilation: int = 1,
                padding_end: int | None = None, ceil: bool = False) -> int:
    """Spatial output size as in PyTorch: (size + p_begin + p_end - d*(k-1) - 1) // s + 1.

    With one `padding` it is the same on both sides; `ceil` rounds up (pooling's ceil_mode).
    """
    span = size + padding + (padding if padding_end is None else padding_end) - dilation * (kernel - 1) - 1
    if ceil:
        return -(-span // stride) + 1
    return span // stride + 1


def same_pads(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """ONNX's SAME_UPPER (TensorFlow's SAME): output ceil(size / stride), the odd pad at the end."""
    span = dilation * (kernel - 1) + 1
    total = max((-(-size // stride) - 1) * stride + span - size, 0)
    return total // 2, total - total // 2


def adaptive_windows(hw: tuple[int, int], out_hw: tuple[int, int]) -> tuple[tuple, tuple, int | None]:
    """PyTorch's adaptive pooling windows: output i reads [floor(i*in/out), ceil((i+1)*in/out)).

    Returns (kernel, stride, window): a plain kernel and stride when the input divides evenly, else the
    largest window and the exact number of elements read per channel.
    """
    sums, kernel, stride, even = [], [], [], True
    for size, out in zip(hw, out_hw):
        spans = [-(-((i + 1) * size) // out) - (i * size) // out for i in range(out)]
        sums.append(sum(spans))
        kernel.append(max(spans))
        stride.append(max(size // out, 1))
        even = even and size % out == 0
    return tuple(kernel), tuple(stride), None if even else sums[0] * sums[1]

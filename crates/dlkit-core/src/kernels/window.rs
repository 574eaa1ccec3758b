//! Sliding-window geometry shared by convolution and pooling: the padding, the parameters of
//! a window and its output size.
//!
//! Per spatial dimension, an input of length `n` padded with `before` and `after` zeros and
//! read by a window of `k` taps at stride `s` gives `out = (n + before + after − k) / s + 1`
//! outputs; output `o` reads input positions `o·s − before + t` for taps `t < k`.

/// How a window is padded with zeros.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Padding {
    /// No padding: `out = (in − k) / s + 1`.
    #[default]
    Valid,
    /// TensorFlow/Keras "same": `out = ⌈in / s⌉`, `total = max((out − 1)·s + k − in, 0)`,
    /// `before = total / 2`, `after = total − before` (an odd extra pixel goes to the
    /// bottom / right).
    Same,
    /// Explicit zeros on each side.
    Explicit {
        top: usize,
        bottom: usize,
        left: usize,
        right: usize,
    },
}

impl Padding {
    /// The same number of zeros on every side.
    pub fn uniform(p: usize) -> Self {
        Padding::Explicit {
            top: p,
            bottom: p,
            left: p,
            right: p,
        }
    }

    /// The zeros on each side for an `h × w` input, a `kernel` window and a `stride`, as
    /// `Padding::Explicit` (`Valid` gives all zeros).
    pub fn resolve(
        self,
        (h, w): (usize, usize),
        kernel: (usize, usize),
        stride: (usize, usize),
    ) -> Padding {
        match self {
            Padding::Valid => Padding::uniform(0),
            Padding::Same => {
                let (top, bottom) = same_1d(h, kernel.0, stride.0);
                let (left, right) = same_1d(w, kernel.1, stride.1);
                Padding::Explicit {
                    top,
                    bottom,
                    left,
                    right,
                }
            }
            explicit => explicit,
        }
    }
}

/// `(before, after)` of "same" padding along one dimension.
fn same_1d(len: usize, k: usize, s: usize) -> (usize, usize) {
    if s == 0 {
        return (0, 0); // rejected by `Window2d::new`
    }
    let out = len.div_ceil(s);
    let total = (out.saturating_sub(1) * s + k).saturating_sub(len);
    (total / 2, total - total / 2)
}

/// Stride, padding and dilation of a 2-D window. Only dilation 1 is implemented;
/// [`Window2d::new`] rejects any other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WindowParams {
    /// `(sh, sw)`.
    pub stride: (usize, usize),
    pub padding: Padding,
    /// `(dh, dw)`: tap `t` reads input offset `t·d` (1: adjacent taps).
    pub dilation: (usize, usize),
}

impl WindowParams {
    /// `stride` and `padding`, dilation 1.
    pub fn new(stride: (usize, usize), padding: Padding) -> Self {
        Self {
            stride,
            padding,
            dilation: (1, 1),
        }
    }
}

/// A window resolved for one input size: the zeros on each side and the output size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Window2d {
    pub top: usize,
    pub bottom: usize,
    pub left: usize,
    pub right: usize,
    pub oh: usize,
    pub ow: usize,
}

impl Window2d {
    /// The window of `(kh, kw)` taps with `params` over an `h × w` input, or an error naming
    /// `op` and what does not fit, such as "conv2d: kernel 5x5 larger than padded input 3x3".
    pub fn new(
        op: &str,
        (h, w): (usize, usize),
        (kh, kw): (usize, usize),
        params: &WindowParams,
    ) -> Result<Self, String> {
        let (sh, sw) = params.stride;
        if kh == 0 || kw == 0 {
            return Err(format!("{op}: kernel {kh}x{kw} has a zero dimension"));
        }
        if sh == 0 || sw == 0 {
            return Err(format!("{op}: stride {sh}x{sw} has a zero dimension"));
        }
        if params.dilation != (1, 1) {
            let (dh, dw) = params.dilation;
            return Err(format!(
                "{op}: dilation {dh}x{dw} is not supported (only 1x1)"
            ));
        }
        let Padding::Explicit {
            top,
            bottom,
            left,
            right,
        } = params.padding.resolve((h, w), (kh, kw), params.stride)
        else {
            unreachable!("Padding::resolve gives explicit zeros");
        };
        let (ph, pw) = (h + top + bottom, w + left + right);
        if kh > ph || kw > pw {
            return Err(format!(
                "{op}: kernel {kh}x{kw} larger than padded input {ph}x{pw}"
            ));
        }
        Ok(Self {
            top,
            bottom,
            left,
            right,
            oh: (ph - kh) / sh + 1,
            ow: (pw - kw) / sw + 1,
        })
    }

    /// No zeros on any side.
    pub fn unpadded(&self) -> bool {
        self.top + self.bottom + self.left + self.right == 0
    }
}

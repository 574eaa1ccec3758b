//! Plain gradient descent: `w := w − α g` (the course's update rule; PyTorch's `SGD` without
//! momentum).

use super::{optimizer_common, Rule, Stepper};
use crate::param::Param;
use dlkit_core::Element;

/// Gradient descent (SGD when fed mini-batches): `w := w − α g`.
pub struct GradientDescent {
    inner: Stepper<SgdRule>,
}

pub(crate) struct SgdRule;

impl Rule for SgdRule {
    type State = ();

    fn init(&self, _p: &Param) {}

    fn apply<T: Element>(&self, _state: &mut (), lr: f64, w: &mut [T], g: &[T]) {
        let lr = T::of(lr);
        w.iter_mut().zip(g).for_each(|(w, &g)| *w -= lr * g);
    }
}

impl GradientDescent {
    /// Gradient descent over `params` with learning rate `lr` (the config's default is 0.01).
    pub fn new(params: Vec<Param>, lr: f64) -> Self {
        GradientDescent {
            inner: Stepper::new(params, lr, SgdRule),
        }
    }
}

optimizer_common!(GradientDescent, "gradient_descent");

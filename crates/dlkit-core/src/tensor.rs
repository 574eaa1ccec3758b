//! The `Tensor`: a cheap-to-clone handle to storage, a layout, and the op that made it.

use crate::autograd::{self, Node};
use crate::element::{DType, Element};
use crate::error::{Error, Result};
use crate::layout::{gather, walk, Layout};
use crate::shape::numel;
use crate::storage::{Device, Storage};
use parking_lot::{Mutex, RwLock};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// Runs `$body` with the type alias `$T` bound to the element type of `$dtype`.
#[macro_export]
macro_rules! with_dtype {
    ($dtype:expr, $T:ident => $body:expr) => {
        match $dtype {
            $crate::DType::F32 => {
                #[allow(dead_code)]
                type $T = f32;
                #[allow(unused_imports)]
                use $crate::element::prelude::*;
                $body
            }
            $crate::DType::F64 => {
                #[allow(dead_code)]
                type $T = f64;
                #[allow(unused_imports)]
                use $crate::element::prelude::*;
                $body
            }
        }
    };
}

/// A unique id per tensor handle, used by autograd to key gradients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TensorId(usize);

impl TensorId {
    fn next() -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        TensorId(COUNTER.fetch_add(1, Ordering::Relaxed))
    }
}

pub(crate) struct Inner {
    pub(crate) id: TensorId,
    pub(crate) storage: Arc<RwLock<Storage>>,
    pub(crate) layout: Layout,
    pub(crate) dtype: DType,
    pub(crate) node: Option<Node>,
    pub(crate) requires_grad: AtomicBool,
    pub(crate) grad: Mutex<Option<Tensor>>,
}

/// An n-dimensional array of f32 or f64 with reverse-mode autograd.
///
/// Cloning is cheap (an `Arc`); views (`transpose`, `narrow`, `reshape` of contiguous data,
/// `broadcast_to`) share storage. Every op has a fallible `try_*` form returning [`Result`]
/// and a plain form that panics with the same message.
#[derive(Clone)]
pub struct Tensor(pub(crate) Arc<Inner>);

impl Tensor {
    pub(crate) fn from_parts(storage: Arc<RwLock<Storage>>, layout: Layout, dtype: DType) -> Self {
        Tensor(Arc::new(Inner {
            id: TensorId::next(),
            storage,
            layout,
            dtype,
            node: None,
            requires_grad: AtomicBool::new(false),
            grad: Mutex::new(None),
        }))
    }

    /// A new contiguous tensor owning `data` (the length must already match the shape).
    pub(crate) fn from_storage(storage: Storage, shape: &[usize]) -> Self {
        debug_assert_eq!(storage.len(), numel(shape));
        let dtype = storage.dtype();
        Self::from_parts(
            Arc::new(RwLock::new(storage)),
            Layout::contiguous(shape),
            dtype,
        )
    }

    pub(crate) fn from_vec_unchecked<T: Element>(data: Vec<T>, shape: &[usize]) -> Self {
        Self::from_storage(T::into_storage(data), shape)
    }

    /// A tensor of `shape` holding `data` in row-major order; the length must match.
    pub fn try_from_vec<T: Element>(data: Vec<T>, shape: &[usize]) -> Result<Self> {
        let n = numel(shape);
        if data.len() != n {
            return Err(Error::invalid(
                "from_vec",
                format!(
                    "shape {shape:?} needs {n} elements but the data has {}",
                    data.len()
                ),
            ));
        }
        Ok(Self::from_vec_unchecked(data, shape))
    }

    /// Panicking form of [`Tensor::try_from_vec`].
    pub fn from_vec<T: Element>(data: Vec<T>, shape: &[usize]) -> Self {
        Self::try_from_vec(data, shape).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A 0-dimensional tensor.
    pub fn scalar<T: Element>(value: T) -> Self {
        Self::from_vec_unchecked(vec![value], &[])
    }

    /// A tensor filled with `value` (converted to `dtype`).
    pub fn full(shape: &[usize], value: f64, dtype: DType) -> Self {
        with_dtype!(dtype, T => Self::from_vec_unchecked(vec![T::of(value); numel(shape)], shape))
    }

    pub fn zeros(shape: &[usize], dtype: DType) -> Self {
        Self::full(shape, 0.0, dtype)
    }

    pub fn ones(shape: &[usize], dtype: DType) -> Self {
        Self::full(shape, 1.0, dtype)
    }

    pub fn zeros_like(&self) -> Self {
        Self::zeros(self.shape(), self.dtype())
    }

    pub fn ones_like(&self) -> Self {
        Self::ones(self.shape(), self.dtype())
    }

    /// `[start, start + step, ...]` up to but excluding `end`, as NumPy's `arange`.
    pub fn try_arange(start: f64, end: f64, step: f64, dtype: DType) -> Result<Self> {
        if step == 0.0 || !step.is_finite() || !start.is_finite() || !end.is_finite() {
            return Err(Error::invalid(
                "arange",
                format!("needs finite bounds and a non-zero step, got start {start}, end {end}, step {step}"),
            ));
        }
        let n = ((end - start) / step).ceil().max(0.0) as usize;
        Ok(with_dtype!(dtype, T => Self::from_vec_unchecked(
            (0..n).map(|i| T::of(start + i as f64 * step)).collect::<Vec<T>>(),
            &[n],
        )))
    }

    pub fn arange(start: f64, end: f64, step: f64, dtype: DType) -> Self {
        Self::try_arange(start, end, step, dtype).unwrap_or_else(|e| panic!("{e}"))
    }

    // ---- accessors -------------------------------------------------------------------

    pub fn id(&self) -> TensorId {
        self.0.id
    }

    pub fn shape(&self) -> &[usize] {
        &self.0.layout.shape
    }

    pub fn strides(&self) -> &[isize] {
        &self.0.layout.strides
    }

    pub fn rank(&self) -> usize {
        self.shape().len()
    }

    pub fn numel(&self) -> usize {
        self.0.layout.numel()
    }

    pub fn dtype(&self) -> DType {
        self.0.dtype
    }

    pub fn device(&self) -> Device {
        Device::Cpu
    }

    pub fn layout(&self) -> &Layout {
        &self.0.layout
    }

    pub fn is_contiguous(&self) -> bool {
        self.0.layout.is_contiguous()
    }

    /// The name of the op that produced this tensor, if it is tracked by autograd.
    pub fn op_name(&self) -> Option<&'static str> {
        self.0.node.as_ref().map(|n| n.name)
    }

    pub(crate) fn check_dtype<T: Element>(&self, op: &'static str) -> Result<()> {
        if self.dtype() != T::DTYPE {
            return Err(Error::DTypeMismatch {
                op,
                lhs: self.dtype(),
                rhs: T::DTYPE,
            });
        }
        Ok(())
    }

    /// Runs `f` on the elements in row-major order as one contiguous slice, borrowing the
    /// storage when the layout is already contiguous and copying otherwise.
    /// Panics if `T` is not this tensor's dtype.
    pub fn with_data<T: Element, R>(&self, f: impl FnOnce(&[T]) -> R) -> R {
        let storage = self.0.storage.read_recursive();
        let data = storage.slice::<T>();
        let layout = &self.0.layout;
        if layout.is_contiguous() {
            f(&data[layout.offset..layout.offset + layout.numel()])
        } else {
            let out = gather(layout, data);
            drop(storage);
            f(&out)
        }
    }

    /// Runs `f` on the whole storage buffer and this tensor's layout (for strided kernels).
    pub fn with_storage<T: Element, R>(&self, f: impl FnOnce(&[T], &Layout) -> R) -> R {
        let storage = self.0.storage.read_recursive();
        f(storage.slice::<T>(), &self.0.layout)
    }

    /// The elements in row-major order; errors if `T` is not the dtype.
    pub fn try_to_vec<T: Element>(&self) -> Result<Vec<T>> {
        self.check_dtype::<T>("to_vec")?;
        Ok(self.with_data(|d: &[T]| d.to_vec()))
    }

    pub fn to_vec<T: Element>(&self) -> Vec<T> {
        self.try_to_vec().unwrap_or_else(|e| panic!("{e}"))
    }

    /// The elements converted to f64, whatever the dtype.
    pub fn to_vec_f64(&self) -> Vec<f64> {
        with_dtype!(self.dtype(), T => self.with_data(|d: &[T]| d.iter().map(|v| v.f64()).collect()))
    }

    /// The single value of a one-element tensor, as f64.
    pub fn try_item(&self) -> Result<f64> {
        if self.numel() != 1 {
            return Err(Error::invalid(
                "item",
                format!("needs a single element, the shape is {:?}", self.shape()),
            ));
        }
        Ok(self.to_vec_f64()[0])
    }

    pub fn item(&self) -> f64 {
        self.try_item().unwrap_or_else(|e| panic!("{e}"))
    }

    /// A contiguous tensor with the same values (`self` when already contiguous at offset 0).
    pub fn contiguous(&self) -> Tensor {
        if self.is_contiguous() && self.0.layout.offset == 0 && self.storage_len() == self.numel() {
            return self.clone();
        }
        let out = with_dtype!(self.dtype(), T => Self::from_vec_unchecked(
            self.with_data(|d: &[T]| d.to_vec()),
            self.shape(),
        ));
        let shape = self.shape().to_vec();
        out.track("contiguous", &[self], move |_, g| {
            vec![Some(g.reshape(&shape))]
        })
    }

    fn storage_len(&self) -> usize {
        self.0.storage.read_recursive().len()
    }

    /// A copy converted to `dtype` (gradients flow back converted to the source dtype).
    pub fn to_dtype(&self, dtype: DType) -> Tensor {
        if dtype == self.dtype() {
            return self.clone();
        }
        let data = self.to_vec_f64();
        let out = with_dtype!(dtype, T => Self::from_vec_unchecked(
            data.into_iter().map(T::of).collect::<Vec<T>>(),
            self.shape(),
        ));
        let src = self.dtype();
        out.track("to_dtype", &[self], move |_, g| vec![Some(g.to_dtype(src))])
    }

    /// Overwrites the values in place with those of `src` (same shape and dtype), for optimisers and
    /// loading saved weights. Not tracked by autograd; views of the same storage see the change.
    pub fn try_assign(&self, src: &Tensor) -> Result<()> {
        if src.shape() != self.shape() {
            return Err(Error::shape(
                "assign",
                self.shape(),
                src.shape(),
                "shapes must be equal",
            ));
        }
        if src.dtype() != self.dtype() {
            return Err(Error::DTypeMismatch {
                op: "assign",
                lhs: self.dtype(),
                rhs: src.dtype(),
            });
        }
        with_dtype!(self.dtype(), T => {
            let values: Vec<T> = src.with_data(|d: &[T]| d.to_vec());
            self.update::<T>(|dst| dst.copy_from_slice(&values));
        });
        Ok(())
    }

    /// Panicking form of [`Tensor::try_assign`].
    pub fn assign(&self, src: &Tensor) {
        self.try_assign(src).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Mutates the values in place through a contiguous slice (a copy is written back when the
    /// layout is strided). Not tracked by autograd.
    pub fn update<T: Element>(&self, f: impl FnOnce(&mut [T])) {
        let layout = &self.0.layout;
        let mut storage = self.0.storage.write();
        let data = storage.slice_mut::<T>();
        if layout.is_contiguous() {
            f(&mut data[layout.offset..layout.offset + layout.numel()]);
        } else {
            let mut offsets = Vec::with_capacity(layout.numel());
            walk(layout, |o| offsets.push(o));
            let mut vals: Vec<T> = offsets.iter().map(|&o| data[o]).collect();
            f(&mut vals);
            for (o, v) in offsets.into_iter().zip(vals) {
                data[o] = v;
            }
        }
    }

    // ---- autograd --------------------------------------------------------------------

    /// Whether gradients are computed for this tensor.
    pub fn requires_grad(&self) -> bool {
        self.0.requires_grad.load(Ordering::Relaxed)
    }

    /// Marks a tensor as a leaf whose gradient `backward` computes (or stops it).
    pub fn set_requires_grad(&self, on: bool) -> &Self {
        self.0.requires_grad.store(on, Ordering::Relaxed);
        self
    }

    /// Builder form of [`Tensor::set_requires_grad`]`(true)`.
    pub fn with_grad(self) -> Self {
        self.set_requires_grad(true);
        self
    }

    /// The accumulated gradient of a leaf after `backward`, if any.
    pub fn grad(&self) -> Option<Tensor> {
        self.0.grad.lock().clone()
    }

    /// Clears the accumulated gradient.
    pub fn zero_grad(&self) {
        *self.0.grad.lock() = None;
    }

    pub(crate) fn accumulate_grad(&self, g: Tensor) {
        let mut slot = self.0.grad.lock();
        *slot = Some(match slot.take() {
            Some(prev) => prev.add(&g),
            None => g,
        });
    }

    /// The same values, cut from the graph: no gradient flows through the result.
    pub fn detach(&self) -> Tensor {
        Self::from_parts(self.0.storage.clone(), self.0.layout.clone(), self.dtype())
    }

    /// A view of the same storage with another layout, tracked with `backward`.
    pub(crate) fn view(&self, layout: Layout) -> Tensor {
        Self::from_parts(self.0.storage.clone(), layout, self.dtype())
    }

    /// A user-defined differentiable op with a hand-written backward, the analogue of
    /// PyTorch's `torch.autograd.Function`: returns `self` (the forward value) recorded as
    /// the result of op `name` on `inputs`, so that `backward` calls `backward` for it.
    ///
    /// The contract:
    /// - `self` is the forward value `y = f(inputs)`, freshly computed from the inputs'
    ///   values without recording (under [`no_grad`](crate::no_grad), or from `detach()`ed
    ///   inputs). The result shares `self`'s storage but not its graph: any ops recorded
    ///   while computing `self` are dropped, and gradients reach the inputs only through
    ///   `backward`.
    /// - `inputs` are the tensors `y` depends on that may need a gradient, in the order
    ///   `backward` answers for them.
    /// - `backward(y, dL/dy)` gets the output and the gradient of the loss with respect to
    ///   it (the output's shape and dtype) and returns one entry per input: `Some(dL/dxᵢ)`,
    ///   of `xᵢ`'s shape or of a shape `xᵢ` broadcasts to (it is then summed back to `xᵢ`'s
    ///   shape, as for built-in broadcasting ops), in `xᵢ`'s dtype; or `None` for no
    ///   gradient. It runs with recording off (no higher-order gradients), on the thread
    ///   that calls `backward`, once per backward pass that reaches the output.
    ///
    /// Nothing is recorded when recording is off or no input requires a gradient.
    ///
    /// # Panics
    /// During `backward`, with a message naming the op, when `backward` returns a number of
    /// gradients other than `inputs.len()`, or a gradient whose dtype differs from its
    /// input's or whose shape cannot be summed to its input's.
    ///
    /// ```
    /// use dlkit_core::{no_grad, Tensor};
    ///
    /// /// `y = x³`, with `dL/dx = 3x² · dL/dy`.
    /// fn cube(x: &Tensor) -> Tensor {
    ///     let y = no_grad(|| x.mul(x).mul(x));
    ///     let x0 = x.detach();
    ///     y.custom_op("cube", &[x], move |_y, g| {
    ///         vec![Some(g.mul(&x0.square().mul_scalar(3.0)))]
    ///     })
    /// }
    ///
    /// let x = Tensor::from_vec(vec![1.0f64, -2.0], &[2]).with_grad();
    /// let y = cube(&x);
    /// assert_eq!(y.op_name(), Some("cube"));
    /// y.sum_all().backward();
    /// assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![3.0, 12.0]);
    /// ```
    pub fn custom_op(
        self,
        name: &'static str,
        inputs: &[&Tensor],
        backward: impl Fn(&Tensor, &Tensor) -> Vec<Option<Tensor>> + Send + Sync + 'static,
    ) -> Tensor {
        // A new handle: `self` may carry a recorded graph, or be one of the inputs.
        let out = self.detach();
        if !autograd::is_grad_enabled() || !inputs.iter().any(|t| t.requires_grad()) {
            return out;
        }
        let expected: Vec<(Vec<usize>, DType)> = inputs
            .iter()
            .map(|t| (t.shape().to_vec(), t.dtype()))
            .collect();
        out.track(name, inputs, move |y, g| {
            let grads = backward(y, g);
            assert!(
                grads.len() == expected.len(),
                "custom op {name}: backward returned {} gradients for {} inputs",
                grads.len(),
                expected.len()
            );
            for (i, (gi, (shape, dtype))) in grads.iter().zip(&expected).enumerate() {
                let Some(gi) = gi else { continue };
                assert!(
                    gi.dtype() == *dtype,
                    "custom op {name}: the gradient for input {i} is {} but the input is {dtype}",
                    gi.dtype()
                );
                let (gs, rank) = (gi.shape(), shape.len());
                let fits = gs.len() >= rank
                    && shape
                        .iter()
                        .zip(&gs[gs.len() - rank..])
                        .all(|(&s, &d)| s == d || s == 1);
                assert!(
                    fits,
                    "custom op {name}: the gradient for input {i} has shape {gs:?}, which does \
                     not sum to the input's shape {shape:?}"
                );
            }
            grads
        })
    }

    /// Records that `self` (a fresh result) was made by op `name` from `inputs`, when any
    /// input needs a gradient and recording is on. `backward(out, grad_out)` returns one
    /// optional gradient per input, of the output's broadcast shape or the input's shape.
    pub(crate) fn track(
        self,
        name: &'static str,
        inputs: &[&Tensor],
        backward: impl Fn(&Tensor, &Tensor) -> Vec<Option<Tensor>> + Send + Sync + 'static,
    ) -> Tensor {
        if !autograd::is_grad_enabled() || !inputs.iter().any(|t| t.requires_grad()) {
            return self;
        }
        let inner = Inner {
            id: self.0.id,
            storage: self.0.storage.clone(),
            layout: self.0.layout.clone(),
            dtype: self.0.dtype,
            node: Some(Node {
                name,
                inputs: inputs.iter().map(|&t| t.clone()).collect(),
                backward: Box::new(backward),
            }),
            requires_grad: AtomicBool::new(true),
            grad: Mutex::new(None),
        };
        Tensor(Arc::new(inner))
    }
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let vals = self.to_vec_f64();
        let shown: Vec<_> = vals.iter().take(8).collect();
        write!(
            f,
            "Tensor({:?}, {}, {:?}{})",
            self.shape(),
            self.dtype(),
            shown,
            if vals.len() > 8 { " ..." } else { "" }
        )
    }
}

//! Where a tensor's numbers live. Only the CPU exists today; a GPU variant slots in here.

use crate::element::{DType, Element};

/// The device a tensor's storage is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Device {
    #[default]
    Cpu,
}

/// A flat buffer of one element type.
#[derive(Clone, Debug)]
pub enum Storage {
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl Storage {
    pub fn dtype(&self) -> DType {
        match self {
            Storage::F32(_) => DType::F32,
            Storage::F64(_) => DType::F64,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Storage::F32(v) => v.len(),
            Storage::F64(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The buffer as a slice of `T`; panics if `T` is not the storage's type (an internal bug:
    /// public entry points check dtypes first).
    pub fn slice<T: Element>(&self) -> &[T] {
        T::slice(self).unwrap_or_else(|| {
            panic!(
                "storage holds {} but {} was asked for",
                self.dtype(),
                T::DTYPE
            )
        })
    }

    pub fn slice_mut<T: Element>(&mut self) -> &mut [T] {
        let dtype = self.dtype();
        T::slice_mut(self)
            .unwrap_or_else(|| panic!("storage holds {dtype} but {} was asked for", T::DTYPE))
    }
}

/// Moves between a typed `Vec` and the untyped [`Storage`].
pub trait StorageElement: Sized {
    fn into_storage(v: Vec<Self>) -> Storage;
    fn slice(s: &Storage) -> Option<&[Self]>;
    fn slice_mut(s: &mut Storage) -> Option<&mut [Self]>;
}

macro_rules! storage_element {
    ($t:ty, $variant:ident) => {
        impl StorageElement for $t {
            fn into_storage(v: Vec<Self>) -> Storage {
                Storage::$variant(v)
            }
            fn slice(s: &Storage) -> Option<&[Self]> {
                match s {
                    Storage::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn slice_mut(s: &mut Storage) -> Option<&mut [Self]> {
                match s {
                    Storage::$variant(v) => Some(v),
                    _ => None,
                }
            }
        }
    };
}
storage_element!(f32, F32);
storage_element!(f64, F64);

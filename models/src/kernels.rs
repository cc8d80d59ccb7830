//! Which implementation of the layers' maths a model runs, chosen once per model and
//! handed to every layer it builds.

use candle_core::{DType, Device};
use serde::{Deserialize, Serialize};

/// The layers' implementation. Both compute the same maths; they differ in speed and
/// in where they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kernels {
    /// The fused CPU kernels, each one graph node with its own backward pass, and the
    /// encoder's row-wise layers on token positions only. CPU and f32 only.
    Fused,
    /// candle's composed ops: any device, any dtype.
    Composed,
}

impl Kernels {
    /// The fastest implementation for parameters on `device` in `dtype`: fused on the
    /// CPU in f32, composed elsewhere.
    pub fn auto(device: &Device, dtype: DType) -> Self {
        if Self::fused_runs_on(device, dtype) {
            Self::Fused
        } else {
            Self::Composed
        }
    }

    /// Whether the fused kernels can run on `device` in `dtype`.
    pub fn fused_runs_on(device: &Device, dtype: DType) -> bool {
        device.is_cpu() && dtype == DType::F32
    }

    /// True for [`Kernels::Fused`].
    pub fn is_fused(self) -> bool {
        self == Self::Fused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_in_f32_gets_the_fused_kernels_and_nothing_else_does() {
        assert_eq!(Kernels::auto(&Device::Cpu, DType::F32), Kernels::Fused);
        assert_eq!(Kernels::auto(&Device::Cpu, DType::F64), Kernels::Composed);
        assert_eq!(Kernels::auto(&Device::Cpu, DType::BF16), Kernels::Composed);
    }
}

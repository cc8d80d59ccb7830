//! The model's parameters: created with a seeded initialisation, saved and loaded as
//! safetensors. It is a candle [`SimpleBackend`], so layers built through a
//! `VarBuilder` on it create their weights here, or find the loaded ones.
//!
//! Each tensor is drawn from a generator seeded by the run seed and its own name, so
//! initial weights do not depend on the order in which layers are built.

use crate::error::{Result, XpError};
use candle_core::{DType, Device, Shape, Tensor, Var};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{Init, VarBuilder};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Named trainable parameters.
#[derive(Clone, Debug)]
pub struct ParamStore {
    vars: Arc<Mutex<BTreeMap<String, Var>>>,
    seed: u64,
    /// Loaded from a checkpoint: a name it lacks is an error, not a new parameter.
    loaded: bool,
}

impl ParamStore {
    /// The dtype of every parameter.
    pub const DTYPE: DType = DType::F32;

    /// An empty store whose new parameters are initialised from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            vars: Arc::default(),
            seed,
            loaded: false,
        }
    }

    /// The parameters of a checkpoint, on `device`.
    pub fn load(path: &Path, device: &Device) -> Result<Self> {
        let tensors = candle_core::safetensors::load(path, device).map_err(|e| {
            XpError::Run(format!(
                "cannot load checkpoint {}: {e} (is it a safetensors file written by `xp run`?)",
                path.display()
            ))
        })?;
        let vars = tensors
            .into_iter()
            .map(|(k, t)| Ok((k, Var::from_tensor(&t)?)))
            .collect::<Result<_>>()?;
        Ok(Self {
            vars: Arc::new(Mutex::new(vars)),
            seed: 0,
            loaded: true,
        })
    }

    /// A `VarBuilder` creating or finding parameters here.
    pub fn var_builder(&self, device: &Device) -> VarBuilder<'static> {
        VarBuilder::from_backend(Box::new(self.clone()), Self::DTYPE, device.clone())
    }

    /// Every parameter, sorted by name.
    pub fn vars(&self) -> Vec<(String, Var)> {
        self.lock()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Number of scalar parameters.
    pub fn count(&self) -> usize {
        self.lock().values().map(|v| v.elem_count()).sum()
    }

    /// Writes every parameter to `path` (atomically).
    pub fn save(&self, path: &Path) -> Result<()> {
        self.save_with(path, None)
    }

    /// Writes every parameter to `path` (atomically), with `metadata` in the file's
    /// header.
    pub fn save_with(&self, path: &Path, metadata: Option<&HashMap<String, String>>) -> Result<()> {
        let tensors: HashMap<String, Tensor> = self
            .lock()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_tensor().clone()))
            .collect();
        crate::files::write_atomic_with(path, |tmp| {
            safetensors::serialize_to_file(&tensors, metadata.cloned(), tmp)
                .map_err(std::io::Error::other)
        })
    }

    /// The header metadata of the checkpoint at `path` (empty when it has none).
    pub fn metadata(path: &Path) -> Result<HashMap<String, String>> {
        let bytes = std::fs::read(path).map_err(|e| XpError::read(path, e))?;
        let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| {
            XpError::Run(format!(
                "{} is not a safetensors checkpoint: {e}",
                path.display()
            ))
        })?;
        Ok(header.metadata().clone().unwrap_or_default())
    }

    /// Copies the values of `other`'s parameters into the same-named ones here.
    pub fn copy_from(&self, other: &ParamStore) -> Result<()> {
        let theirs = other.lock();
        for (name, var) in self.lock().iter() {
            if let Some(src) = theirs.get(name) {
                var.set(&src.as_tensor().to_device(var.device())?)?;
            }
        }
        Ok(())
    }

    /// Copies the values of the parameters `other` also has (same name) into those
    /// here, and returns their names; refuses, naming them, parameters of the same
    /// name and another shape.
    pub fn copy_shared(&self, other: &ParamStore) -> Result<Vec<String>> {
        self.copy_matching(other, |_| true)
    }

    /// [`ParamStore::copy_shared`] for the parameters here that `wanted` accepts.
    pub fn copy_matching(
        &self,
        other: &ParamStore,
        wanted: impl Fn(&str) -> bool,
    ) -> Result<Vec<String>> {
        let theirs = other.lock();
        let ours = self.lock();
        let shared: Vec<(&String, &Var, &Var)> = ours
            .iter()
            .filter(|(name, _)| wanted(name))
            .filter_map(|(name, var)| Some((name, var, theirs.get(name)?)))
            .collect();
        let misfits: Vec<String> = shared
            .iter()
            .filter(|(_, var, src)| var.shape() != src.shape())
            .map(|(name, var, src)| {
                format!("{name} is {:?} there, {:?} here", src.dims(), var.dims())
            })
            .collect();
        if !misfits.is_empty() {
            return Err(XpError::Run(format!(
                "parameters of another shape: {}",
                misfits.join("; ")
            )));
        }
        for (_, var, src) in &shared {
            var.set(&src.as_tensor().to_device(var.device())?)?;
        }
        Ok(shared
            .into_iter()
            .map(|(name, _, _)| name.clone())
            .collect())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Var>> {
        self.vars
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn init(&self, shape: &Shape, name: &str, init: Init) -> Vec<f32> {
        let seed = name
            .bytes()
            .fold(self.seed ^ 0xcbf2_9ce4_8422_2325, |h, b| {
                (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
            });
        let mut rng = SmallRng::seed_from_u64(seed);
        let n = shape.elem_count();
        let uniform = |rng: &mut SmallRng, lo: f64, up: f64| lo + (up - lo) * rng.random::<f64>();
        let normal = |rng: &mut SmallRng, mean: f64, std: f64| {
            let (u1, u2) = (1.0 - rng.random::<f64>(), rng.random::<f64>());
            mean + std * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        };
        (0..n)
            .map(|_| match init {
                Init::Const(c) => c,
                Init::Uniform { lo, up } => uniform(&mut rng, lo, up),
                Init::Randn { mean, stdev } => normal(&mut rng, mean, stdev),
                Init::Kaiming {
                    dist,
                    fan,
                    non_linearity,
                } => {
                    let std = non_linearity.gain() / (fan.for_shape(shape) as f64).sqrt();
                    match dist {
                        candle_nn::init::NormalOrUniform::Uniform => {
                            let b = 3f64.sqrt() * std;
                            uniform(&mut rng, -b, b)
                        }
                        candle_nn::init::NormalOrUniform::Normal => normal(&mut rng, 0.0, std),
                    }
                }
            } as f32)
            .collect()
    }
}

impl SimpleBackend for ParamStore {
    fn get(
        &self,
        shape: Shape,
        name: &str,
        init: Init,
        dtype: DType,
        dev: &Device,
    ) -> candle_core::Result<Tensor> {
        if let Some(var) = self.lock().get(name) {
            if var.shape() != &shape {
                candle_core::bail!(
                    "parameter {name} has shape {:?}, the model expects {:?}",
                    var.shape(),
                    shape
                )
            }
            return Ok(var.as_tensor().clone());
        }
        if self.loaded {
            candle_core::bail!("the checkpoint has no parameter {name}: it was trained with another model or objective set")
        }
        let values = self.init(&shape, name, init);
        let var = Var::from_tensor(
            &Tensor::from_vec(values, shape, &Device::Cpu)?
                .to_dtype(dtype)?
                .to_device(dev)?,
        )?;
        let tensor = var.as_tensor().clone();
        self.lock().insert(name.to_owned(), var);
        Ok(tensor)
    }

    fn get_unchecked(
        &self,
        name: &str,
        _dtype: DType,
        _dev: &Device,
    ) -> candle_core::Result<Tensor> {
        match self.lock().get(name) {
            Some(v) => Ok(v.as_tensor().clone()),
            None => candle_core::bail!("no parameter {name}"),
        }
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.lock().contains_key(name)
    }
}

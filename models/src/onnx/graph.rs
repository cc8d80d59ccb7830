//! A small builder for ONNX graphs: named initializers from candle tensors, nodes with
//! fresh output names, typed inputs and outputs, and the final `ModelProto`.

use candle_core::{DType, Result, Tensor};
use onnx_protobuf::attribute_proto::AttributeType;
use onnx_protobuf::tensor_proto::DataType;
use onnx_protobuf::tensor_shape_proto::{dimension, Dimension};
use onnx_protobuf::{
    type_proto, AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto,
    StringStringEntryProto, TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
};
use std::collections::HashSet;

/// The ONNX opset the graphs use (LayerNormalization needs 17).
pub const OPSET: i64 = 17;
/// The IR version written: ONNX Runtime 1.17 and later load it.
pub const IR_VERSION: i64 = 8;

/// One axis of a graph input or output.
#[derive(Debug, Clone, Copy)]
pub enum Dim {
    /// A named dynamic axis (`batch`, `seq`).
    Dynamic(&'static str),
    /// A fixed size.
    Fixed(usize),
}

/// A node attribute.
#[derive(Debug, Clone)]
pub enum Attr {
    /// An integer.
    Int(i64),
    /// A list of integers.
    Ints(Vec<i64>),
    /// A float.
    Float(f32),
    /// A list of floats.
    Floats(Vec<f32>),
    /// A string.
    Str(String),
}

/// How the weight matrices of products (`x W`) enter a graph.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WeightFormat {
    /// f32 initializers and `MatMul`.
    #[default]
    F32,
    /// Dynamic int8 quantization: int8 weights with a scale per output column
    /// (symmetric, zero point 0), activations quantized to uint8 at run time per tensor
    /// (`DynamicQuantizeLinear`), integer products (`MatMulInteger`) rescaled to f32:
    /// the pattern ONNX Runtime fuses into its integer kernels (VNNI where the CPU has
    /// it).
    Int8,
}

/// An ONNX graph under construction.
#[derive(Debug, Default)]
pub struct OnnxGraph {
    graph: GraphProto,
    names: HashSet<String>,
    counter: usize,
    /// Put before every weight's name: several models in one graph keep their own.
    scope: String,
    weights: WeightFormat,
}

impl OnnxGraph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty graph whose weight products take the format `weights`.
    pub fn with_weights(weights: WeightFormat) -> Self {
        Self {
            weights,
            ..Self::default()
        }
    }

    /// `x (.., in) W (in, out)` for a weight matrix `w` stored as initializer `name`, in
    /// the graph's [`WeightFormat`].
    pub fn matmul_weight(&mut self, x: &str, name: &str, w: &Tensor) -> Result<String> {
        if self.weights == WeightFormat::F32 {
            let w = self.weight(name, w)?;
            return Ok(self.op("MatMul", &[x, &w], &[]));
        }
        let (w_int8, w_scale, w_zero) = self.quantized_weight(name, w)?;
        let quantized = self.ops("DynamicQuantizeLinear", &[x], 3);
        let (x_uint8, x_scale, x_zero) = (&quantized[0], &quantized[1], &quantized[2]);
        let product = self.op("MatMulInteger", &[x_uint8, &w_int8, x_zero, &w_zero], &[]);
        let product = self.op(
            "Cast",
            &[&product],
            &[("to", Attr::Int(DataType::FLOAT as i64))],
        );
        let scale = self.op("Mul", &[x_scale, &w_scale], &[]);
        Ok(self.op("Mul", &[&product, &scale], &[]))
    }

    /// The int8 initializers of `w (in, out)` under `name`: values, f32 scale per column
    /// and zero points (all 0).
    fn quantized_weight(&mut self, name: &str, w: &Tensor) -> Result<(String, String, String)> {
        let names = [
            format!("{}{name}.int8", self.scope),
            format!("{}{name}.scale", self.scope),
            format!("{}{name}.zero", self.scope),
        ];
        if !self.names.contains(&names[0]) {
            let (values, scales) = quantize_columns(w)?;
            let out = scales.len();
            let raw = values.iter().map(|&v| v as u8).collect();
            self.initializer(&names[0], DataType::INT8, w.dims(), raw);
            let raw = scales.iter().flat_map(|v| v.to_le_bytes()).collect();
            self.initializer(&names[1], DataType::FLOAT, &[out], raw);
            self.initializer(&names[2], DataType::INT8, &[out], vec![0; out]);
        }
        let [values, scales, zeros] = names;
        Ok((values, scales, zeros))
    }

    /// Runs `build` with every weight it adds named `SCOPE/NAME`: the graph of several
    /// models (an ensemble), each with weights of the same names.
    pub fn scoped<T>(&mut self, scope: &str, build: impl FnOnce(&mut Self) -> T) -> T {
        let inner = format!("{}{scope}/", self.scope);
        let outer = std::mem::replace(&mut self.scope, inner);
        let built = build(self);
        self.scope = outer;
        built
    }

    /// Declares an int64 input.
    pub fn input_i64(&mut self, name: &str, dims: &[Dim]) -> String {
        self.names.insert(name.to_owned());
        self.graph
            .input
            .push(value_info(name, DataType::INT64, dims));
        name.to_owned()
    }

    /// Declares a float output `name` holding the value of `from`.
    pub fn output_f32(&mut self, name: &str, from: &str, dims: &[Dim]) {
        self.node_named("Identity", &[from], &[], name);
        self.graph
            .output
            .push(value_info(name, DataType::FLOAT, dims));
    }

    /// The f32 initializer `name` holding `tensor` (added once: a second call with the
    /// same name reuses it).
    pub fn weight(&mut self, name: &str, tensor: &Tensor) -> Result<String> {
        let scoped = format!("{}{name}", self.scope);
        let name = scoped.as_str();
        if self.names.contains(name) {
            return Ok(name.to_owned());
        }
        let values = tensor
            .to_dtype(DType::F32)?
            .flatten_all()?
            .to_vec1::<f32>()?;
        let raw = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.initializer(name, DataType::FLOAT, tensor.dims(), raw);
        Ok(name.to_owned())
    }

    /// A float constant (a scalar when `dims` is empty).
    pub fn const_f32(&mut self, values: &[f32], dims: &[usize]) -> String {
        let name = self.fresh("const");
        let raw = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.initializer(&name, DataType::FLOAT, dims, raw);
        name
    }

    /// An int64 constant (a scalar when `dims` is empty).
    pub fn const_i64(&mut self, values: &[i64], dims: &[usize]) -> String {
        let name = self.fresh("const");
        let raw = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.initializer(&name, DataType::INT64, dims, raw);
        name
    }

    /// Appends an `op` node with one output and returns that output's name.
    pub fn op(&mut self, op: &str, inputs: &[&str], attrs: &[(&str, Attr)]) -> String {
        let out = self.fresh(&op.to_lowercase());
        self.node_named(op, inputs, attrs, &out);
        out
    }

    /// Appends an `op` node with `outputs` outputs and returns their names.
    pub fn ops(&mut self, op: &str, inputs: &[&str], outputs: usize) -> Vec<String> {
        let stem = op.to_lowercase();
        let outs: Vec<String> = (0..outputs).map(|_| self.fresh(&stem)).collect();
        let mut node = NodeProto::new();
        node.op_type = op.to_owned();
        node.name = format!("{}_node", outs[0]);
        node.input = inputs.iter().map(|s| s.to_string()).collect();
        node.output = outs.clone();
        self.names.extend(outs.iter().cloned());
        self.graph.node.push(node);
        outs
    }

    /// Wraps the graph in a model (IR [`IR_VERSION`], opset [`OPSET`]) with `metadata`.
    pub fn finish(self, name: &str, metadata: &[(String, String)]) -> ModelProto {
        let mut model = ModelProto::new();
        model.ir_version = IR_VERSION;
        model.producer_name = "xp".into();
        model.producer_version = env!("CARGO_PKG_VERSION").into();
        let mut opset = OperatorSetIdProto::new();
        opset.version = OPSET;
        model.opset_import.push(opset);
        let mut graph = self.graph;
        graph.name = name.to_owned();
        model.graph = Some(graph).into();
        model.metadata_props = metadata
            .iter()
            .map(|(k, v)| {
                let mut e = StringStringEntryProto::new();
                e.key = k.clone();
                e.value = v.clone();
                e
            })
            .collect();
        model
    }

    fn node_named(&mut self, op: &str, inputs: &[&str], attrs: &[(&str, Attr)], out: &str) {
        let mut node = NodeProto::new();
        node.op_type = op.to_owned();
        node.name = format!("{out}_node");
        node.input = inputs.iter().map(|s| s.to_string()).collect();
        node.output = vec![out.to_owned()];
        node.attribute = attrs.iter().map(|(n, a)| attribute(n, a)).collect();
        self.names.insert(out.to_owned());
        self.graph.node.push(node);
    }

    fn initializer(&mut self, name: &str, ty: DataType, dims: &[usize], raw: Vec<u8>) {
        let mut t = TensorProto::new();
        t.name = name.to_owned();
        t.data_type = ty as i32;
        t.dims = dims.iter().map(|&d| d as i64).collect();
        t.raw_data = raw;
        self.names.insert(name.to_owned());
        self.graph.initializer.push(t);
    }

    fn fresh(&mut self, stem: &str) -> String {
        loop {
            self.counter += 1;
            let name = format!("{stem}_{}", self.counter);
            if !self.names.contains(&name) {
                return name;
            }
        }
    }
}

/// `w (in, out)` as int8 values (row-major) and a scale per output column: each column
/// symmetric over `[-127, 127]`, `w ~ value * scale`.
fn quantize_columns(w: &Tensor) -> Result<(Vec<i8>, Vec<f32>)> {
    let rows = w.to_dtype(DType::F32)?.to_vec2::<f32>()?;
    let out = rows.first().map_or(0, Vec::len);
    let mut scales = vec![0f32; out];
    for row in &rows {
        for (scale, v) in scales.iter_mut().zip(row) {
            *scale = scale.max(v.abs());
        }
    }
    // A column of zeros keeps scale 1: its values quantize to 0 all the same.
    let scales: Vec<f32> = scales
        .iter()
        .map(|&m| if m > 0.0 { m / 127.0 } else { 1.0 })
        .collect();
    let values = rows
        .iter()
        .flat_map(|row| row.iter().zip(&scales))
        .map(|(v, s)| (v / s).round().clamp(-127.0, 127.0) as i8)
        .collect();
    Ok((values, scales))
}

fn attribute(name: &str, value: &Attr) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.to_owned();
    match value {
        Attr::Int(i) => {
            a.type_ = AttributeType::INT.into();
            a.i = *i;
        }
        Attr::Ints(v) => {
            a.type_ = AttributeType::INTS.into();
            a.ints = v.clone();
        }
        Attr::Float(f) => {
            a.type_ = AttributeType::FLOAT.into();
            a.f = *f;
        }
        Attr::Floats(v) => {
            a.type_ = AttributeType::FLOATS.into();
            a.floats = v.clone();
        }
        Attr::Str(text) => {
            a.type_ = AttributeType::STRING.into();
            a.s = text.as_bytes().to_vec();
        }
    }
    a
}

fn value_info(name: &str, ty: DataType, dims: &[Dim]) -> ValueInfoProto {
    let mut shape = TensorShapeProto::new();
    shape.dim = dims
        .iter()
        .map(|d| {
            let mut dim = Dimension::new();
            dim.value = Some(match d {
                Dim::Dynamic(n) => dimension::Value::DimParam((*n).to_owned()),
                Dim::Fixed(n) => dimension::Value::DimValue(*n as i64),
            });
            dim
        })
        .collect();
    let mut tensor = type_proto::Tensor::new();
    tensor.elem_type = ty as i32;
    tensor.shape = Some(shape).into();
    let mut ty = TypeProto::new();
    ty.value = Some(type_proto::Value::TensorType(tensor));
    let mut info = ValueInfoProto::new();
    info.name = name.to_owned();
    info.type_ = Some(ty).into();
    info
}

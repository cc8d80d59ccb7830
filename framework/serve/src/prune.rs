//! One output's part of an exported model: the nodes, initializers and inputs that
//! output needs, and nothing else. ONNX Runtime runs every node of a session's graph
//! whatever output is asked for, so a session per output kind (CLS alone skips the
//! causal and pair passes and the other heads) is what makes a request pay only for
//! its own output.

use crate::ServeError;
use onnx_protobuf::ModelProto;
use protobuf::Message;
use std::collections::HashSet;

/// The model in `bytes` cut down to what `output` needs, serialised.
pub fn only_output(bytes: &[u8], output: &str) -> Result<Vec<u8>, ServeError> {
    let bad = |e: protobuf::Error| ServeError::Model(format!("cannot read the ONNX model: {e}"));
    let mut model = ModelProto::parse_from_bytes(bytes).map_err(bad)?;
    let graph = model.graph.mut_or_insert_default();
    if !graph.output.iter().any(|o| o.name == output) {
        return Err(ServeError::Model(format!(
            "the model has no output {output}"
        )));
    }
    // Nodes are in topological order: walking back from the output finds every node
    // and value it needs.
    let mut needed: HashSet<String> = HashSet::from([output.to_owned()]);
    let mut keep = vec![false; graph.node.len()];
    for (i, node) in graph.node.iter().enumerate().rev() {
        if node.output.iter().any(|o| needed.contains(o)) {
            keep[i] = true;
            needed.extend(node.input.iter().cloned());
        }
    }
    let mut index = 0;
    graph.node.retain(|_| {
        index += 1;
        keep[index - 1]
    });
    graph.output.retain(|o| o.name == output);
    graph.input.retain(|i| needed.contains(&i.name));
    graph.initializer.retain(|t| needed.contains(&t.name));
    graph.value_info.retain(|v| needed.contains(&v.name));
    model
        .write_to_bytes()
        .map_err(|e| ServeError::Model(format!("cannot write the pruned ONNX model: {e}")))
}

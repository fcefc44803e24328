//! Small graphs: merges, shared layers, nested models, several outputs, recurrent states,
//! traced programs and wiring errors.

use std::sync::Arc;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use super::*;
use crate::nn::{Context, build_layer};
use crate::ops::test_util::randn;

fn layer(kind: &str, name: &str, config: serde_json::Value, inputs: &[Shape]) -> Arc<BuiltLayer> {
    let built = build_layer(kind, &config, inputs, DType::F64).unwrap();
    Arc::new(BuiltLayer::new(name.into(), built))
}

fn dense(name: &str, units: usize, features: usize) -> Arc<BuiltLayer> {
    layer(
        "Dense",
        name,
        json!({"units": units}),
        &[vec![None, Some(features)]],
    )
}

fn input(features: usize) -> GraphNode {
    GraphNode::Input {
        shape: vec![None, Some(features)],
    }
}

fn apply(layer: usize, inputs: &[usize]) -> GraphNode {
    GraphNode::Apply {
        layer,
        inputs: inputs.iter().map(|&i| ValueRef::from(i)).collect(),
        training: None,
    }
}

fn with_ctx<T>(body: impl FnOnce(&mut Context<'_>) -> T) -> T {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut ctx = Context {
        training: false,
        rng: &mut rng,
        packed_kernels: None,
    };
    body(&mut ctx)
}

/// Runs a layer alone on tensors.
fn call(layer: &BuiltLayer, inputs: &[Tensor]) -> Tensor {
    with_ctx(|ctx| layer.layer.forward(inputs, None, ctx).unwrap())
}

fn forward(graph: &Graph, inputs: &[Tensor]) -> Tensor {
    with_ctx(|ctx| graph.forward(inputs, ctx).unwrap())
}

fn zero_grads(graph: &Graph) {
    for w in graph.trainable_weights() {
        w.set_grad(None).unwrap();
    }
}

#[test]
fn merge_nodes_add_and_concatenate_two_branches() {
    let (a, b) = (dense("a", 3, 2), dense("b", 3, 2));
    let two = [vec![None, Some(3)], vec![None, Some(3)]];
    let add = layer("Add", "add", json!({}), &two);
    let cat = layer("Concatenate", "cat", json!({}), &two);
    let x = randn(&[4, 2], 1);
    let by_hand_a = call(&a, std::slice::from_ref(&x));
    let by_hand_b = call(&b, std::slice::from_ref(&x));
    for (merge, expected) in [
        (add, by_hand_a.add(&by_hand_b).unwrap()),
        (
            cat,
            crate::ops::join::concat(&[by_hand_a.clone(), by_hand_b.clone()], -1).unwrap(),
        ),
    ] {
        let graph = Graph::new(
            vec![a.clone(), b.clone(), merge],
            vec![input(2), apply(0, &[0]), apply(1, &[0]), apply(2, &[1, 2])],
            vec![0],
            3,
            DType::F64,
        )
        .unwrap();
        assert_eq!(graph.output_shape(), expected_shape(&expected).as_slice());
        assert_eq!(
            forward(&graph, std::slice::from_ref(&x)).to_f64_vec(),
            expected.to_f64_vec()
        );
        assert_eq!(graph.weights().len(), 4);
    }
}

fn expected_shape(t: &Tensor) -> Shape {
    let mut shape: Shape = t.shape().iter().map(|&d| Some(d)).collect();
    shape[0] = None;
    shape
}

#[test]
fn a_layer_used_twice_shares_its_weights_and_gathers_both_gradients() {
    let shared = dense("shared", 2, 2);
    let add = layer(
        "Add",
        "add",
        json!({}),
        &[vec![None, Some(2)], vec![None, Some(2)]],
    );
    let graph = Graph::new(
        vec![shared.clone(), add],
        vec![input(2), apply(0, &[0]), apply(0, &[1]), apply(1, &[1, 2])],
        vec![0],
        3,
        DType::F64,
    )
    .unwrap();
    let names: Vec<String> = graph.weights().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, vec!["shared/kernel", "shared/bias"]);
    let x = randn(&[3, 2], 2);
    let y = forward(&graph, std::slice::from_ref(&x));
    let once = call(&shared, std::slice::from_ref(&x));
    let twice = call(&shared, std::slice::from_ref(&once));
    assert_eq!(y.to_f64_vec(), once.add(&twice).unwrap().to_f64_vec());

    // The gradient of the graph is the sum of the gradients through each use, computed by hand.
    zero_grads(&graph);
    y.sum(None, false).unwrap().backward(None, false).unwrap();
    let from_graph = shared.weights()[0].tensor.grad().unwrap().to_f64_vec();
    zero_grads(&graph);
    let once = call(&shared, std::slice::from_ref(&x));
    let twice = call(&shared, std::slice::from_ref(&once));
    once.add(&twice)
        .unwrap()
        .sum(None, false)
        .unwrap()
        .backward(None, false)
        .unwrap();
    let by_hand = shared.weights()[0].tensor.grad().unwrap().to_f64_vec();
    assert_eq!(from_graph, by_hand);
    assert!(from_graph.iter().any(|&g| g != 0.0));
}

fn inner_model() -> Arc<Graph> {
    Arc::new(
        Graph::new(
            vec![dense("dense", 3, 2)],
            vec![input(2), apply(0, &[0])],
            vec![0],
            1,
            DType::F64,
        )
        .unwrap(),
    )
}

#[test]
fn a_nested_model_is_a_node_whose_weights_are_the_outer_models() {
    let inner = inner_model();
    let head = dense("head", 1, 3);
    let outer = Graph::new(
        vec![head.clone()],
        vec![
            input(2),
            GraphNode::Model {
                name: "base".into(),
                model: inner.clone(),
                inputs: vec![ValueRef::from(0)],
                training: None,
            },
            apply(0, &[1]),
        ],
        vec![0],
        2,
        DType::F64,
    )
    .unwrap();
    assert_eq!(outer.output_shape(), &vec![None, Some(1)]);
    let x = randn(&[4, 2], 3);
    let by_hand = call(&head, &[forward(&inner, std::slice::from_ref(&x))]);
    assert_eq!(
        forward(&outer, std::slice::from_ref(&x)).to_f64_vec(),
        by_hand.to_f64_vec()
    );
    let names: Vec<String> = outer.weights().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        vec![
            "head/kernel",
            "head/bias",
            "base/dense/kernel",
            "base/dense/bias"
        ]
    );
    assert_eq!(outer.trainable_weights().len(), 4);

    // Gradients reach the nested model's weights; freezing it leaves only the head's.
    zero_grads(&outer);
    forward(&outer, std::slice::from_ref(&x))
        .sum(None, false)
        .unwrap()
        .backward(None, false)
        .unwrap();
    assert!(inner.weights()[0].1.tensor.grad().is_some());
    inner.set_trainable(false);
    assert_eq!(outer.trainable_weights().len(), 2);
    assert!(inner.weights().iter().all(|(_, w)| !w.trainable));
    inner.set_trainable(true);

    // A nested model's input must fit.
    let err = Graph::new(
        vec![],
        vec![
            input(5),
            GraphNode::Model {
                name: "base".into(),
                model: inner,
                inputs: vec![ValueRef::from(0)],
                training: None,
            },
        ],
        vec![0],
        1,
        DType::F64,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("\"base\" expects inputs of shapes [(None, 2)]"),
        "{err}"
    );
}

#[test]
fn several_outputs_are_computed_together_and_all_train_the_trunk() {
    let (trunk, left, right) = (
        dense("trunk", 3, 2),
        dense("left", 1, 3),
        dense("right", 2, 3),
    );
    let graph = Graph::with_outputs(
        vec![trunk.clone(), left.clone(), right.clone()],
        vec![input(2), apply(0, &[0]), apply(1, &[1]), apply(2, &[1])],
        vec![0],
        vec![ValueRef::from(2), ValueRef::from(3)],
        DType::F64,
    )
    .unwrap();
    assert_eq!(
        graph.output_shapes(),
        vec![vec![None, Some(1)], vec![None, Some(2)]]
    );
    let x = randn(&[4, 2], 4);
    let outputs = with_ctx(|ctx| graph.forward_all(std::slice::from_ref(&x), ctx).unwrap());
    assert_eq!(outputs.len(), 2);
    let hidden = call(&trunk, std::slice::from_ref(&x));
    assert_eq!(
        outputs[1].to_f64_vec(),
        call(&right, &[hidden]).to_f64_vec()
    );
    let err = with_ctx(|ctx| graph.forward(std::slice::from_ref(&x), ctx))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("forward_all"), "{err}");

    zero_grads(&graph);
    let loss = outputs[0]
        .mean(None, false)
        .unwrap()
        .add(&outputs[1].mean(None, false).unwrap())
        .unwrap();
    loss.backward(None, false).unwrap();
    for built in [&trunk, &left, &right] {
        let grad = built.weights()[0].tensor.grad();
        assert!(
            grad.is_some_and(|g| g.to_f64_vec().iter().any(|&v| v != 0.0)),
            "{} got no gradient",
            built.name
        );
    }
}

#[test]
fn a_recurrent_layers_states_are_extra_outputs_other_nodes_read() {
    let sequence = vec![None, Some(5), Some(3)];
    let lstm = layer(
        "LSTM",
        "lstm",
        json!({"units": 4, "return_state": true}),
        std::slice::from_ref(&sequence),
    );
    let head = dense("head", 2, 4);
    let graph = Graph::with_outputs(
        vec![lstm.clone(), head.clone()],
        vec![
            GraphNode::Input { shape: sequence },
            apply(0, &[0]),
            GraphNode::Apply {
                layer: 1,
                inputs: vec![ValueRef::new(1, 2)],
                training: None,
            },
        ],
        vec![0],
        vec![ValueRef::new(1, 1), ValueRef::from(2)],
        DType::F64,
    )
    .unwrap();
    assert_eq!(
        graph.node_shapes(1).unwrap(),
        &[
            vec![None, Some(4)],
            vec![None, Some(4)],
            vec![None, Some(4)]
        ]
    );
    let x = randn(&[2, 5, 3], 5);
    let outputs = with_ctx(|ctx| graph.forward_all(std::slice::from_ref(&x), ctx).unwrap());
    let by_hand = with_ctx(|ctx| {
        lstm.layer
            .forward_outputs(std::slice::from_ref(&x), None, ctx)
            .unwrap()
    });
    assert_eq!(outputs[0].to_f64_vec(), by_hand[1].to_f64_vec());
    assert_eq!(
        outputs[1].to_f64_vec(),
        call(&head, &[by_hand[2].clone()]).to_f64_vec()
    );
}

#[test]
fn wiring_errors_name_the_node_and_the_value() {
    let build = |nodes: Vec<GraphNode>, outputs: Vec<ValueRef>| {
        Graph::with_outputs(vec![dense("d", 2, 2)], nodes, vec![0], outputs, DType::F64)
            .err()
            .unwrap()
            .to_string()
    };
    let later = build(
        vec![input(2), apply(0, &[2]), apply(0, &[1])],
        vec![ValueRef::from(2)],
    );
    assert!(
        later.contains("graph node 1 must read earlier nodes, reads node 2"),
        "{later}"
    );
    let bad_output = build(
        vec![
            input(2),
            GraphNode::Apply {
                layer: 0,
                inputs: vec![ValueRef::new(0, 1)],
                training: None,
            },
        ],
        vec![ValueRef::from(1)],
    );
    assert!(
        bad_output.contains("graph node 1 reads output 1 of node 0, which has 1 output(s)"),
        "{bad_output}"
    );
    let bad_model_output = build(vec![input(2), apply(0, &[0])], vec![ValueRef::new(1, 3)]);
    assert!(
        bad_model_output.contains("output 3 of node 1"),
        "{bad_model_output}"
    );
    let missing_layer = build(vec![input(2), apply(4, &[0])], vec![ValueRef::from(1)]);
    assert!(missing_layer.contains("missing layer 4"), "{missing_layer}");
}

/// `tanh(x @ w + b) * 0.5`, recorded.
fn traced_program() -> Program {
    serde_json::from_value(json!({
        "input_shapes": [[null, 3]],
        "weights": [{"name": "w", "shape": [3, 2]}, {"name": "b", "shape": [2]}],
        "constants": [0.5],
        "ops": [
            {"op": "matmul", "inputs": [{"input": 0}, {"weight": 0}]},
            {"op": "add", "inputs": [{"op": 0}, {"weight": 1}]},
            {"op": "tanh", "inputs": [{"op": 1}]},
            {"op": "mul", "inputs": [{"op": 2}, {"constant": 0}]},
            {"op": {"sum": {"axes": [1], "keepdims": true}}, "inputs": [{"op": 3}]},
        ],
        "outputs": [{"op": 3}, {"op": 4}],
        "output_shapes": [[null, 2], [null, 1]],
    }))
    .unwrap()
}

#[test]
fn a_traced_program_computes_and_differentiates_like_the_ops_it_records() {
    let program = traced_program();
    let (w, b) = (randn(&[3, 2], 6), randn(&[2], 7));
    let built = ProgramLayer::with_weights(program.clone(), vec![w.clone(), b.clone()]).unwrap();
    let traced = Arc::new(BuiltLayer::new("traced".into(), Box::new(built)));
    let graph = Graph::with_outputs(
        vec![traced],
        vec![input(3), apply(0, &[0])],
        vec![0],
        vec![ValueRef::new(1, 0), ValueRef::new(1, 1)],
        DType::F64,
    )
    .unwrap();
    assert_eq!(
        graph
            .weights()
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>(),
        vec!["traced/w", "traced/b"]
    );
    let x = randn(&[4, 3], 8);
    let outputs = with_ctx(|ctx| graph.forward_all(std::slice::from_ref(&x), ctx).unwrap());
    outputs[0]
        .sum(None, false)
        .unwrap()
        .backward(None, false)
        .unwrap();
    let program_grads = (
        w.grad().unwrap().to_f64_vec(),
        x.grad().unwrap().to_f64_vec(),
    );
    w.set_grad(None).unwrap();
    b.set_grad(None).unwrap();
    x.set_grad(None).unwrap();

    let direct = x
        .matmul(&w)
        .unwrap()
        .add(&b)
        .unwrap()
        .tanh()
        .unwrap()
        .scalar_op(crate::ops::binary::BinaryOp::Mul, 0.5, false)
        .unwrap();
    assert_eq!(outputs[0].to_f64_vec(), direct.to_f64_vec());
    assert_eq!(
        outputs[1].to_f64_vec(),
        direct.sum(Some(&[1]), true).unwrap().to_f64_vec()
    );
    direct
        .sum(None, false)
        .unwrap()
        .backward(None, false)
        .unwrap();
    assert_eq!(program_grads.0, w.grad().unwrap().to_f64_vec());
    assert_eq!(program_grads.1, x.grad().unwrap().to_f64_vec());
}

#[test]
fn a_program_round_trips_through_json_and_its_schema_is_closed() {
    let program = traced_program();
    let text = serde_json::to_string(&program).unwrap();
    assert_eq!(serde_json::from_str::<Program>(&text).unwrap(), program);
    let built = build_layer(
        "Program",
        &serde_json::to_value(&program).unwrap(),
        &[vec![None, Some(3)]],
        DType::F64,
    )
    .unwrap();
    assert_eq!(built.config(), serde_json::to_value(&program).unwrap());
    assert_eq!(
        built.output_shapes(&[vec![None, Some(3)]]).unwrap(),
        vec![vec![None, Some(2)], vec![None, Some(1)]]
    );
    assert!(
        build_layer(
            "Program",
            &serde_json::to_value(&program).unwrap(),
            &[vec![None, Some(4)]],
            DType::F64
        )
        .is_err()
    );

    let mut extra = serde_json::to_value(&program).unwrap();
    extra["ops"][0]["colour"] = json!("red");
    assert!(serde_json::from_value::<Program>(extra).is_err());
    let unknown_op = json!({"op": "fft", "inputs": [{"input": 0}]});
    assert!(serde_json::from_value::<RecordedOp>(unknown_op).is_err());

    let mut forward_read = program.clone();
    forward_read.ops[0].inputs[0] = ProgramRef::Op(3);
    let err = forward_read.check().unwrap_err().to_string();
    assert!(err.contains("op 0"), "{err}");
    let mut wrong_arity = program;
    wrong_arity.ops[2].inputs.push(ProgramRef::Input(0));
    let err = wrong_arity.check().unwrap_err().to_string();
    assert!(err.contains("takes 1 operand(s), received 2"), "{err}");
}

#[test]
fn a_nested_model_runs_with_the_outer_training_flag_rng_and_output_activation() {
    let sigmoid = layer(
        "Dense",
        "out",
        json!({"units": 2, "activation": "sigmoid"}),
        &[vec![None, Some(3)]],
    );
    let drop = layer(
        "Dropout",
        "drop",
        json!({"rate": 0.5}),
        &[vec![None, Some(3)]],
    );
    let inner = Arc::new(
        Graph::new(
            vec![drop, sigmoid],
            vec![input(3), apply(0, &[0]), apply(1, &[1])],
            vec![0],
            2,
            DType::F64,
        )
        .unwrap(),
    );
    let outer = Graph::new(
        vec![],
        vec![
            input(3),
            GraphNode::Model {
                name: "inner".into(),
                model: inner.clone(),
                inputs: vec![ValueRef::from(0)],
                training: None,
            },
        ],
        vec![0],
        1,
        DType::F64,
    )
    .unwrap();
    assert_eq!(outer.output_activation().name(), "sigmoid");
    let x = randn(&[6, 3], 9);
    let run = |graph: &Graph, training: bool, logits: bool| {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut ctx = Context {
            training,
            rng: &mut rng,
            packed_kernels: None,
        };
        let inputs = std::slice::from_ref(&x);
        let out = if logits {
            graph.forward_without_output_activation(inputs, &mut ctx)
        } else {
            graph.forward(inputs, &mut ctx)
        };
        out.unwrap().to_f64_vec()
    };
    for training in [false, true] {
        for logits in [false, true] {
            assert_eq!(run(&outer, training, logits), run(&inner, training, logits));
        }
    }
    assert_ne!(run(&outer, true, false), run(&outer, false, false));
    assert_ne!(run(&outer, false, true), run(&outer, false, false));
}

#[test]
fn masks_ride_along_the_values_through_branches_and_merges() {
    let ids_shape = vec![None, Some(4)];
    let embed = layer(
        "Embedding",
        "embed",
        json!({"input_dim": 5, "output_dim": 3, "mask_zero": true}),
        std::slice::from_ref(&ids_shape),
    );
    let sequence = vec![None, Some(4), Some(3)];
    let (a, b) = (
        layer(
            "Dense",
            "a",
            json!({"units": 2}),
            std::slice::from_ref(&sequence),
        ),
        layer(
            "Dense",
            "b",
            json!({"units": 2}),
            std::slice::from_ref(&sequence),
        ),
    );
    let halves = vec![None, Some(4), Some(2)];
    let cat = layer("Concatenate", "cat", json!({}), &[halves.clone(), halves]);
    let pool = layer(
        "GlobalAveragePooling1D",
        "pool",
        json!({}),
        &[vec![None, Some(4), Some(4)]],
    );
    let graph = Graph::new(
        vec![
            embed.clone(),
            a.clone(),
            b.clone(),
            cat.clone(),
            pool.clone(),
        ],
        vec![
            GraphNode::Input { shape: ids_shape },
            apply(0, &[0]),
            apply(1, &[1]),
            apply(2, &[1]),
            apply(3, &[2, 3]),
            apply(4, &[4]),
        ],
        vec![0],
        5,
        DType::F64,
    )
    .unwrap();
    let ids = Tensor::from_array(
        ndarray::arr2(&[[1.0f64, 2.0, 0.0, 0.0], [3.0, 4.0, 1.0, 0.0]]).into_dyn(),
        false,
    );
    let by_hand = with_ctx(|ctx| {
        let ids = std::slice::from_ref(&ids);
        let e = embed.layer.forward(ids, None, ctx).unwrap();
        let mask = embed.layer.compute_mask(ids, None).unwrap();
        let joined = crate::ops::join::concat(
            &[
                a.layer
                    .forward(std::slice::from_ref(&e), None, ctx)
                    .unwrap(),
                b.layer
                    .forward(std::slice::from_ref(&e), None, ctx)
                    .unwrap(),
            ],
            -1,
        )
        .unwrap();
        pool.layer.forward(&[joined], mask.as_ref(), ctx).unwrap()
    });
    let unmasked_mean = with_ctx(|ctx| {
        let e = embed
            .layer
            .forward(std::slice::from_ref(&ids), None, ctx)
            .unwrap();
        let h = a
            .layer
            .forward(std::slice::from_ref(&e), None, ctx)
            .unwrap();
        let g = b.layer.forward(&[e], None, ctx).unwrap();
        let joined = crate::ops::join::concat(&[h, g], -1).unwrap();
        pool.layer.forward(&[joined], None, ctx).unwrap()
    });
    let out = forward(&graph, std::slice::from_ref(&ids)).to_f64_vec();
    assert_eq!(out, by_hand.to_f64_vec());
    assert_ne!(out, unmasked_mean.to_f64_vec());
}

/// Runs a graph in training mode.
fn forward_training(graph: &Graph, inputs: &[Tensor]) -> Tensor {
    with_ctx(|ctx| {
        ctx.training = true;
        let out = graph.forward(inputs, ctx).unwrap();
        assert!(ctx.training, "a node's fixed mode leaked out of its call");
        out
    })
}

#[test]
fn a_call_made_with_training_keeps_its_mode_whatever_the_pass() {
    // A base model that only dropout separates from the identity.
    let dropout = layer(
        "Dropout",
        "dropout",
        json!({"rate": 0.5}),
        &[vec![None, Some(4)]],
    );
    let base = Arc::new(
        Graph::new(
            vec![dropout.clone()],
            vec![input(4), apply(0, &[0])],
            vec![0],
            1,
            DType::F64,
        )
        .unwrap(),
    );
    let outer_with = |training: Option<bool>| {
        Graph::new(
            vec![],
            vec![
                input(4),
                GraphNode::Model {
                    name: "base".into(),
                    model: base.clone(),
                    inputs: vec![ValueRef::from(0)],
                    training,
                },
            ],
            vec![0],
            1,
            DType::F64,
        )
        .unwrap()
    };
    let x = randn(&[64, 4], 5);
    // training=False: the identity, even in a training pass.
    let frozen = outer_with(Some(false));
    assert_eq!(
        forward_training(&frozen, std::slice::from_ref(&x)).to_f64_vec(),
        x.to_f64_vec()
    );
    // No override: a training pass drops about half of the values.
    let following = outer_with(None);
    let dropped = forward_training(&following, std::slice::from_ref(&x))
        .to_f64_vec()
        .iter()
        .filter(|v| **v == 0.0)
        .count();
    assert!((64..192).contains(&dropped), "{dropped} of 256 dropped");
    // training=True: dropout drops even in an inference pass (Monte Carlo dropout).
    let always = outer_with(Some(true));
    assert_ne!(
        forward(&always, std::slice::from_ref(&x)).to_f64_vec(),
        x.to_f64_vec()
    );
    // The same on a layer node.
    let layer_node = Graph::new(
        vec![dropout],
        vec![
            input(4),
            GraphNode::Apply {
                layer: 0,
                inputs: vec![ValueRef::from(0)],
                training: Some(false),
            },
        ],
        vec![0],
        1,
        DType::F64,
    )
    .unwrap();
    assert_eq!(
        forward_training(&layer_node, std::slice::from_ref(&x)).to_f64_vec(),
        x.to_f64_vec()
    );
}

#[test]
fn a_frozen_batch_normalization_runs_in_inference_mode_in_a_training_pass() {
    let norm = layer(
        "BatchNormalization",
        "norm",
        json!({}),
        &[vec![None, Some(3)]],
    );
    let graph = Graph::new(
        vec![norm.clone()],
        vec![input(3), apply(0, &[0])],
        vec![0],
        1,
        DType::F64,
    )
    .unwrap();
    let x = randn(&[16, 3], 9);
    let statistics = |g: &Graph| -> Vec<Vec<f64>> {
        g.weights()
            .into_iter()
            .filter(|(name, _)| name.contains("moving"))
            .map(|(_, w)| w.tensor.to_f64_vec())
            .collect()
    };
    let before = statistics(&graph);
    norm.set_trainable(false);
    let frozen = forward_training(&graph, std::slice::from_ref(&x));
    assert_eq!(
        statistics(&graph),
        before,
        "a frozen layer moved its statistics"
    );
    assert_eq!(
        frozen.to_f64_vec(),
        forward(&graph, std::slice::from_ref(&x)).to_f64_vec()
    );
    // A frozen model freezes it too; a trainable one trains on batch statistics.
    norm.set_trainable(true);
    graph.set_trainable(false);
    forward_training(&graph, std::slice::from_ref(&x));
    assert_eq!(statistics(&graph), before);
    graph.set_trainable(true);
    forward_training(&graph, std::slice::from_ref(&x));
    assert_ne!(statistics(&graph), before);
}

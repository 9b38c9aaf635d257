//! The method's promises: the target holds, relevant and new beats
//! relevant and repeated, duplicates fold into what is kept, the coarse
//! stage spends where the information is, and every run is repeatable.

use bubble_compress::{compress, CompressError, Fate, Method, Params, Target, UnitSet};
use proptest::prelude::*;

fn unit(v: &[f32]) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / n).collect()
}

fn params(method: Method, target: Target) -> Params {
    Params {
        method,
        target,
        ..Params::default()
    }
}

#[test]
fn a_repeat_is_merged_and_the_budget_goes_to_something_new() {
    let q = unit(&[1.0, 0.0, 0.0]);
    let mut set = UnitSet::new(3);
    let fact = unit(&[0.9, 0.4, 0.0]);
    set.push(&fact, 10, 0, 0).unwrap(); // the best unit
    set.push(&fact, 10, 1, 1).unwrap(); // the same fact elsewhere
    set.push(&unit(&[0.7, 0.0, 0.7]), 10, 2, 2).unwrap(); // a second facet
    set.push(&unit(&[0.0, 1.0, 0.0]), 10, 2, 2).unwrap(); // off topic
    for method in [Method::Mig, Method::MigFlat] {
        let c = compress(&set, &q, &params(method, Target::Tokens(20))).unwrap();
        // One copy is kept, the other folds into it.
        let (kept, repeat) = if c.units[0].fate == Fate::Kept {
            (0, 1)
        } else {
            (1, 0)
        };
        assert_eq!(c.units[kept].fate, Fate::Kept, "{method:?}");
        assert_eq!(c.units[repeat].fate, Fate::MergedInto(kept), "{method:?}");
        assert_eq!(c.units[2].fate, Fate::Kept, "{method:?}");
        assert_eq!(c.units[3].fate, Fate::Dropped, "{method:?}");
        assert!(c.units[repeat].red > 0.999);
    }
    // Similarity alone spends half the budget on the repeat.
    let c = compress(
        &set,
        &q,
        &params(Method::QuerySimilarity, Target::Tokens(20)),
    )
    .unwrap();
    assert_eq!(c.kept(), vec![0, 1]);
}

#[test]
fn the_coarse_stage_spends_where_the_information_is() {
    // Axis 0 is the query; each unit adds a direction of its own, so no
    // two units repeat each other.
    let dim = 16;
    let axis = |weights: &[(usize, f32)]| {
        let mut v = vec![0.0; dim];
        for &(i, w) in weights {
            v[i] = w;
        }
        unit(&v)
    };
    let q = axis(&[(0, 1.0)]);
    let mut set = UnitSet::new(dim);
    // Group 0 answers the query; group 1 barely; group 2 is off topic.
    for i in 0..5 {
        set.push(&axis(&[(0, 0.8), (1 + i, 0.6)]), 10, 0, 0)
            .unwrap();
        set.push(&axis(&[(0, 0.3), (6 + i, 0.9)]), 10, 1, 1)
            .unwrap();
        set.push(&axis(&[(11 + i, 1.0)]), 10, 2, 2).unwrap();
    }
    let c = compress(&set, &q, &params(Method::Mig, Target::Rate(0.2))).unwrap();
    assert_eq!(c.target, 30);
    let allotted: usize = c.groups.iter().map(|g| g.allotment).sum();
    assert_eq!(allotted, 30, "allotments meet the target exactly");
    assert!(c.groups[0].allotment > c.groups[1].allotment);
    assert!(c.groups[1].allotment >= c.groups[2].allotment);
    assert_eq!(c.groups[0].kept, 30, "{:?}", c.groups);
    assert!(c.kept_tokens <= 30);
    assert_eq!(c.groups[0].representative.map(|r| set.groups()[r]), Some(0));
}

#[test]
fn bad_parameters_are_errors_naming_the_parameter() {
    let mut set = UnitSet::new(2);
    set.push(&[1.0, 0.0], 5, 0, 0).unwrap();
    assert!(matches!(
        set.push(&[1.0], 5, 0, 0),
        Err(CompressError::Dimension { .. })
    ));
    let q = [1.0, 0.0];
    for (p, name) in [
        (
            Params {
                target: Target::Rate(0.0),
                ..Params::default()
            },
            "rate",
        ),
        (
            Params {
                target: Target::Rate(1.5),
                ..Params::default()
            },
            "rate",
        ),
        (
            Params {
                alpha: -1.0,
                ..Params::default()
            },
            "alpha",
        ),
        (
            Params {
                beta: f32::NAN,
                ..Params::default()
            },
            "beta",
        ),
        (
            Params {
                temperature: 0.0,
                ..Params::default()
            },
            "temperature",
        ),
        (
            Params {
                merge_threshold: Some(1.5),
                ..Params::default()
            },
            "merge_threshold",
        ),
    ] {
        let err = compress(&set, &q, &p).unwrap_err();
        assert!(err.to_string().starts_with(name), "{err}");
    }
    assert!(matches!(
        compress(&set, &[1.0], &Params::default()),
        Err(CompressError::Dimension { .. })
    ));
    let empty = UnitSet::new(2);
    let c = compress(&empty, &q, &Params::default()).unwrap();
    assert_eq!((c.target, c.kept_tokens), (0, 0));
}

/// Units as (vector, tokens, group), and a query.
type RawSet = (Vec<(Vec<f32>, u32, u32)>, Vec<f32>);

fn arbitrary_set() -> impl Strategy<Value = RawSet> {
    let unit_vec = proptest::collection::vec(-1.0f32..1.0, 4);
    (
        proptest::collection::vec((unit_vec.clone(), 0u32..60, 0u32..6), 0..60),
        unit_vec,
    )
}

proptest! {
    #[test]
    fn every_method_keeps_within_the_target_and_repeats_itself(
        (raw, q) in arbitrary_set(),
        rate in 0.01f32..1.0,
        temperature in 0.01f32..3.0,
        merge in proptest::option::of(0.5f32..1.0),
    ) {
        let mut set = UnitSet::new(4);
        for (v, t, g) in &raw {
            if v.iter().any(|x| x.abs() > 1e-3) {
                set.push(&unit(v), *t, *g, *g).unwrap();
            }
        }
        let q = if q.iter().any(|x| x.abs() > 1e-3) { unit(&q) } else { vec![1.0, 0.0, 0.0, 0.0] };
        for method in [Method::Mig, Method::MigFlat, Method::QuerySimilarity, Method::Lead, Method::Random] {
            let p = Params { method, target: Target::Rate(rate), temperature, merge_threshold: merge, ..Params::default() };
            let c = compress(&set, &q, &p).unwrap();
            let kept: usize = c.kept().iter().map(|&u| set.tokens()[u] as usize).sum();
            prop_assert_eq!(kept, c.kept_tokens);
            prop_assert!(kept <= c.target);
            prop_assert_eq!(c.target, (set.total_tokens() as f64 * f64::from(rate)).floor() as usize);
            for u in &c.units {
                if let Fate::MergedInto(k) = u.fate {
                    prop_assert_eq!(c.units[k].fate, Fate::Kept);
                }
            }
            if method == Method::Mig {
                let allotted: usize = c.groups.iter().map(|g| g.allotment).sum();
                prop_assert_eq!(allotted, c.target.min(set.total_tokens()));
            }
            prop_assert_eq!(&c, &compress(&set, &q, &p).unwrap());
        }
    }
}

#[test]
fn a_paragraph_does_not_repeat_itself_and_related_is_not_redundant() {
    let q = unit(&[1.0, 0.0, 0.0, 0.0]);
    let mut set = UnitSet::new(4);
    // Two near-identical units of one block, and a related (not repeated)
    // unit of another block.
    set.push(&unit(&[0.9, 0.3, 0.0, 0.0]), 10, 0, 0).unwrap();
    set.push(&unit(&[0.9, 0.31, 0.0, 0.0]), 10, 0, 0).unwrap();
    set.push(&unit(&[0.8, 0.0, 0.6, 0.0]), 10, 1, 1).unwrap();
    let c = compress(&set, &q, &params(Method::MigFlat, Target::Tokens(30))).unwrap();
    assert!(
        c.units
            .iter()
            .all(|u| !matches!(u.fate, Fate::MergedInto(_))),
        "units of one block never fold into each other: {:?}",
        c.units
    );
    assert_eq!(c.kept(), vec![0, 1, 2]);
    // Cosine 0.72 to what is kept is below the floor: no redundancy.
    assert_eq!(c.units[2].red, 0.0);
}

#[test]
fn every_group_keeps_its_best_unit_and_the_lead_prior_counts() {
    let q = unit(&[1.0, 0.0, 0.0, 0.0]);
    let mut set = UnitSet::new(4);
    set.push(&unit(&[0.9, 0.4, 0.0, 0.0]), 10, 0, 0).unwrap();
    set.push(&unit(&[0.9, 0.0, 0.4, 0.0]), 10, 0, 0).unwrap();
    set.push(&unit(&[0.2, 0.0, 0.0, 1.0]), 10, 1, 1).unwrap(); // weak group
    let p = |every_group| Params {
        method: Method::Mig,
        target: Target::Tokens(20),
        every_group,
        ..Params::default()
    };
    assert_eq!(compress(&set, &q, &p(false)).unwrap().kept(), vec![0, 1]);
    let c = compress(&set, &q, &p(true)).unwrap();
    assert!(c.kept().contains(&2), "the weak group keeps its best unit");
    assert_eq!(c.groups.iter().map(|g| g.allotment).sum::<usize>(), 20);
    // The lead prior ranks a block's first unit above a slightly closer one.
    let mut two = UnitSet::new(4);
    two.push(&unit(&[0.8, 0.6, 0.0, 0.0]), 10, 0, 0).unwrap();
    two.push(&unit(&[0.85, 0.0, 0.5, 0.0]), 10, 0, 0).unwrap();
    let lead = |w| Params {
        method: Method::MigFlat,
        target: Target::Tokens(10),
        lead_weight: w,
        ..Params::default()
    };
    assert_eq!(compress(&two, &q, &lead(0.0)).unwrap().kept(), vec![1]);
    assert_eq!(compress(&two, &q, &lead(0.2)).unwrap().kept(), vec![0]);
    two.set_prior(1, 0.5);
    assert_eq!(
        compress(&two, &q, &lead(0.2)).unwrap().kept(),
        vec![1],
        "a caller's prior counts too"
    );
}

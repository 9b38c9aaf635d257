use super::*;

/// Unit vectors in memory, for tests.
struct Rows {
    dim: usize,
    data: Vec<f32>,
}

impl Points for Rows {
    fn len(&self) -> usize {
        self.data.len() / self.dim
    }
    fn vector(&self, node: u32) -> Result<&[f32], IndexError> {
        let at = node as usize * self.dim;
        Ok(&self.data[at..at + self.dim])
    }
}

/// `n` pseudo-random unit vectors of dimension `dim`, in loose clusters
/// (as embeddings are), the same on every run.
fn rows(n: usize, dim: usize) -> Rows {
    let mut data = Vec::with_capacity(n * dim);
    for i in 0..n {
        let cluster = (i % 17) as f32;
        let v: Vec<f32> = (0..dim)
            .map(|j| {
                let noise = (((i * 7919 + j * 104_729) % 1000) as f32 / 1000.0 - 0.5) * 0.8;
                (cluster * 0.7 + j as f32 * 0.3).sin() + noise
            })
            .collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        data.extend(v.iter().map(|x| x / norm));
    }
    Rows { dim, data }
}

fn exact(points: &Rows, query: &[f32], k: usize, keep: &dyn Fn(u32) -> bool) -> Vec<u32> {
    let mut all: Vec<Near> = (0..points.len() as u32)
        .filter(|&n| keep(n))
        .map(|n| Near {
            distance: distance(query, points.vector(n).unwrap()),
            node: n,
        })
        .collect();
    all.sort();
    all.into_iter().take(k).map(|n| n.node).collect()
}

fn built(points: &Rows) -> (tempfile::TempDir, GraphFile) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.graph");
    build(points, &path).unwrap();
    let graph = GraphFile::open(crate::checksums::Checked::fresh(&path).unwrap()).unwrap();
    (dir, graph)
}

#[test]
fn finds_the_exact_neighbours_almost_always() {
    let points = rows(4000, 32);
    let (_dir, graph) = built(&points);
    assert_eq!(graph.len(), 4000);
    let (mut hit, mut wanted) = (0, 0);
    for q in (0..4000).step_by(40) {
        let query = points.vector(q).unwrap();
        let got: Vec<u32> = graph
            .search(&points, query, 10, 64, &|_| true)
            .unwrap()
            .iter()
            .map(|n| n.node)
            .collect();
        let want = exact(&points, query, 10, &|_| true);
        hit += got.iter().filter(|g| want.contains(g)).count();
        wanted += want.len();
        assert_eq!(got[0], q, "a point is its own nearest");
    }
    assert!(hit * 100 >= wanted * 98, "recall {hit}/{wanted}");
}

#[test]
fn a_filter_is_walked_through_but_never_answered() {
    let points = rows(3000, 24);
    let (_dir, graph) = built(&points);
    let keep = |n: u32| n.is_multiple_of(5);
    let (mut hit, mut wanted) = (0, 0);
    for q in (0..3000).step_by(50) {
        let query = points.vector(q).unwrap();
        let got = graph.search(&points, query, 10, 100, &keep).unwrap();
        assert_eq!(got.len(), 10);
        assert!(got.iter().all(|n| keep(n.node)));
        let want = exact(&points, query, 10, &keep);
        hit += got.iter().filter(|g| want.contains(&g.node)).count();
        wanted += want.len();
    }
    assert!(hit * 100 >= wanted * 95, "recall {hit}/{wanted}");
}

#[test]
fn the_same_points_give_the_same_file() {
    let points = rows(2000, 16);
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    build(&points, &a).unwrap();
    build(&points, &b).unwrap();
    assert!(std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap());
}

#[test]
fn tiny_and_empty_graphs_answer() {
    for n in [0, 1, 2, 5] {
        let points = rows(n, 8);
        let (_dir, graph) = built(&points);
        let query = rows(1, 8);
        let got = graph
            .search(&points, query.vector(0).unwrap(), 3, 10, &|_| true)
            .unwrap();
        assert_eq!(got.len(), n.min(3), "n={n}");
    }
}

#[test]
fn damaged_lists_are_errors_not_panics() {
    let points = rows(500, 8);
    let (dir, _) = built(&points);
    let path = dir.path().join("g.graph");
    let clean = std::fs::read(&path).unwrap();
    let mut errors = 0;
    for at in (0..clean.len()).step_by(97) {
        let mut bytes = clean.clone();
        bytes[at] ^= 0xff;
        let damaged = dir.path().join("d.graph");
        std::fs::write(&damaged, &bytes).unwrap();
        let Ok(graph) = GraphFile::open(crate::checksums::Checked::fresh(&damaged).unwrap()) else {
            errors += 1;
            continue;
        };
        for q in 0..20 {
            if graph
                .search(&points, points.vector(q).unwrap(), 5, 20, &|_| true)
                .is_err()
            {
                errors += 1;
                break;
            }
        }
    }
    assert!(errors > 0);
    let mut short = clean.clone();
    short.truncate(clean.len() - 4);
    std::fs::write(&path, &short).unwrap();
    assert!(GraphFile::open(crate::checksums::Checked::fresh(&path).unwrap()).is_err());
}

#[test]
fn layers_thin_out_by_m() {
    let above: usize = (0..100_000u32).filter(|&n| layer_of(n) > 0).count();
    // One in M, give or take.
    assert!((5_000..7_500).contains(&above), "{above}");
    assert_eq!(layer_of(12345), layer_of(12345));
}

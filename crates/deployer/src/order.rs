//! The order carbon applications deploy in: by the references between their artifacts, so that
//! a CApp whose API calls an endpoint of another CApp comes after it, whatever the file names.
//! MI deploys CApps in file-name order (or by `descriptor.xml` dependencies in newer releases),
//! which breaks rollouts where the names sort the wrong way; Conflux derives the order from the
//! artifacts themselves. Ties, and CApps with no references between them, keep file-name order.
//! A cycle is not an error: Conflux compiles the whole set at once, so references resolve in any
//! order; the CApps of a cycle keep file-name order and the cycle is reported.

use std::collections::{BTreeSet, HashMap};

/// What one CApp defines and what it refers to that it does not define itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CAppRefs {
    pub name: String,
    /// Names of the artifacts it defines (`kind:name`, so an endpoint and a sequence of the same
    /// name are different).
    pub defines: Vec<String>,
    /// Names it refers to and does not define (`kind:name`).
    pub refers_to: Vec<String>,
}

/// The deploy order (indexes into `capps`, which are in file-name order) and the names of the
/// CApps caught in a reference cycle, if any.
pub fn deploy_order(capps: &[CAppRefs]) -> (Vec<usize>, Vec<String>) {
    let mut definer: HashMap<&str, usize> = HashMap::new();
    for (i, capp) in capps.iter().enumerate() {
        for name in &capp.defines {
            definer.entry(name.as_str()).or_insert(i);
        }
    }
    // depends_on[i]: the CApps i refers to.
    let depends_on: Vec<BTreeSet<usize>> = capps
        .iter()
        .enumerate()
        .map(|(i, capp)| {
            capp.refers_to
                .iter()
                .filter_map(|r| definer.get(r.as_str()).copied())
                .filter(|&j| j != i)
                .collect()
        })
        .collect();
    let mut placed = vec![false; capps.len()];
    let mut order = Vec::with_capacity(capps.len());
    // Kahn's algorithm, always taking the first ready CApp in file-name order.
    while order.len() < capps.len() {
        let ready =
            (0..capps.len()).find(|&i| !placed[i] && depends_on[i].iter().all(|&j| placed[j]));
        match ready {
            Some(i) => {
                placed[i] = true;
                order.push(i);
            }
            None => break,
        }
    }
    let cycle: Vec<String> = (0..capps.len())
        .filter(|&i| !placed[i])
        .map(|i| capps[i].name.clone())
        .collect();
    order.extend((0..capps.len()).filter(|&i| !placed[i]));
    (order, cycle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capp(name: &str, defines: &[&str], refers_to: &[&str]) -> CAppRefs {
        CAppRefs {
            name: name.into(),
            defines: defines.iter().map(|s| s.to_string()).collect(),
            refers_to: refers_to.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn a_capp_comes_after_the_ones_it_refers_to_whatever_the_names() {
        // "A_Api" calls an endpoint of "Z_Endpoints": alphabetical order would deploy it first.
        let capps = [
            capp("A_Api", &["api:Orders"], &["endpoint:OrdersEp"]),
            capp("M_Other", &["api:Other"], &[]),
            capp("Z_Endpoints", &["endpoint:OrdersEp"], &[]),
        ];
        let (order, cycle) = deploy_order(&capps);
        assert_eq!(order, [1, 2, 0]);
        assert!(cycle.is_empty());
    }

    #[test]
    fn unrelated_capps_keep_file_name_order() {
        let capps = [
            capp("a", &["api:A"], &["sequence:main"]),
            capp("b", &["api:B"], &[]),
        ];
        assert_eq!(deploy_order(&capps), (vec![0, 1], vec![]));
    }

    #[test]
    fn a_cycle_is_reported_and_keeps_file_name_order() {
        let capps = [
            capp("a", &["sequence:S"], &["endpoint:E"]),
            capp("b", &["endpoint:E"], &["sequence:S"]),
            capp("c", &["api:C"], &[]),
        ];
        let (order, cycle) = deploy_order(&capps);
        assert_eq!(order, [2, 0, 1]);
        assert_eq!(cycle, ["a", "b"]);
    }
}

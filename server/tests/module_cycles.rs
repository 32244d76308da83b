//! No import cycles between the workspace's modules: a module that names another (a `use`,
//! or a path such as `crate::jobs::JobConfig`) depends on it, and no chain of such
//! dependencies may come back to where it started. Checked on the source with `syn`, one
//! node per file (a file's inline modules, its tests included, belong to it); a module's
//! `mod child;` lines are ownership, not use, and do not count.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use syn::visit::Visit;

/// The crates checked, by their folder under the workspace.
const CRATES: [&str; 4] = ["tsdb", "app", "server", "frontend"];

/// One crate's modules: module path (`["jobs", "service"]`) to the file holding it.
struct Crate {
    files: BTreeMap<Vec<String>, PathBuf>,
}

impl Crate {
    fn read(src: &Path) -> Crate {
        let mut files = BTreeMap::new();
        collect(src, &mut Vec::new(), &mut files);
        Crate { files }
    }

    /// The file module a path inside the crate lands in: the longest prefix that is a
    /// file (`crate::jobs::service::pause` is in `jobs/service.rs`).
    fn file_of(&self, path: &[String]) -> Option<Vec<String>> {
        (0..=path.len())
            .rev()
            .map(|n| path[..n].to_vec())
            .find(|prefix| self.files.contains_key(prefix))
    }
}

/// Walks a source folder: `lib.rs`/`main.rs` are the root, `x.rs` and `x/mod.rs` are
/// module `x`, and `x/y.rs` is `x::y`.
fn collect(dir: &Path, prefix: &mut Vec<String>, files: &mut BTreeMap<Vec<String>, PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        if path.is_dir() {
            prefix.push(stem);
            collect(&path, prefix, files);
            prefix.pop();
        } else if path.extension().is_some_and(|e| e == "rs") {
            let mut module = prefix.clone();
            match stem.as_str() {
                "mod" => {}
                "lib" | "main" if prefix.is_empty() => {}
                _ => module.push(stem),
            }
            files.insert(module, path);
        }
    }
}

/// Every path a file names, resolved against the crate root.
struct Paths<'a> {
    /// The module the visitor stands in (the file's module, then its inline modules).
    here: Vec<String>,
    named: &'a mut BTreeSet<Vec<String>>,
}

impl Paths<'_> {
    /// `crate::a::b`, `super::a`, `self::a` as a path from the crate root; other paths
    /// (other crates, local names) are not this crate's modules.
    fn resolve(&self, segments: &[String]) -> Option<Vec<String>> {
        let mut base = self.here.clone();
        let mut rest = segments;
        match rest.first().map(String::as_str) {
            Some("crate") => {
                base.clear();
                rest = &rest[1..];
            }
            Some("super") => {
                while rest.first().map(String::as_str) == Some("super") {
                    base.pop()?;
                    rest = &rest[1..];
                }
            }
            Some("self") => rest = &rest[1..],
            _ => return None,
        }
        base.extend(rest.iter().cloned());
        Some(base)
    }

    fn note(&mut self, segments: &[String]) {
        if let Some(path) = self.resolve(segments) {
            self.named.insert(path);
        }
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                prefix.push(n.ident.to_string());
                self.note(prefix);
                prefix.pop();
            }
            syn::UseTree::Rename(r) => {
                prefix.push(r.ident.to_string());
                self.note(prefix);
                prefix.pop();
            }
            syn::UseTree::Glob(_) => self.note(prefix),
            syn::UseTree::Group(g) => {
                for tree in &g.items {
                    self.use_tree(prefix, tree);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for Paths<'_> {
    fn visit_item_mod(&mut self, module: &'ast syn::ItemMod) {
        if module.content.is_some() {
            self.here.push(module.ident.to_string());
            syn::visit::visit_item_mod(self, module);
            self.here.pop();
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &item.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        self.note(&segments);
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        // Paths inside macro calls (`view!`, `format!`) are only tokens to syn.
        scan_tokens(&mac.tokens.to_string(), self);
        syn::visit::visit_macro(self, mac);
    }
}

/// `crate::a::b`, `super::a`, `self::a` in a macro call's text.
fn scan_tokens(text: &str, paths: &mut Paths<'_>) {
    let mut joined = text.to_string();
    for spaced in [" ::", ":: "] {
        while joined.contains(spaced) {
            joined = joined.replace(spaced, "::");
        }
    }
    for word in joined.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')) {
        let segments: Vec<String> = word.split("::").map(str::to_string).collect();
        if segments.len() > 1 && matches!(segments[0].as_str(), "crate" | "super" | "self") {
            paths.note(&segments);
        }
    }
}

/// Each file's dependencies on other files of its crate.
fn graph(krate: &Crate) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let mut edges = BTreeMap::new();
    for (module, file) in &krate.files {
        let text = std::fs::read_to_string(file).expect("read a source file");
        let ast = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let mut named = BTreeSet::new();
        Paths {
            here: module.clone(),
            named: &mut named,
        }
        .visit_file(&ast);
        let targets: BTreeSet<Vec<String>> = named
            .iter()
            .filter_map(|path| krate.file_of(path))
            .filter(|target| target != module)
            .collect();
        edges.insert(module.clone(), targets);
    }
    edges
}

/// The strongly connected components with more than one file (Tarjan's algorithm).
fn cycles(edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<Vec<Vec<String>>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<&'a Vec<String>, usize>,
        low: BTreeMap<&'a Vec<String>, usize>,
        stack: Vec<&'a Vec<String>>,
        on_stack: BTreeSet<&'a Vec<String>>,
        found: Vec<Vec<Vec<String>>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, node: &'a Vec<String>) {
            let n = self.index.len();
            self.index.insert(node, n);
            self.low.insert(node, n);
            self.stack.push(node);
            self.on_stack.insert(node);
            for next in self.edges.get(node).into_iter().flatten() {
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.on_stack.contains(next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut component = Vec::new();
                while let Some(top) = self.stack.pop() {
                    self.on_stack.remove(top);
                    component.push(top.clone());
                    if top == node {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in edges.keys() {
        if !walk.index.contains_key(node) {
            walk.visit(node);
        }
    }
    walk.found
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the server crate sits in the workspace")
        .to_path_buf()
}

fn show(module: &[String]) -> String {
    if module.is_empty() {
        "crate".into()
    } else {
        module.join("::")
    }
}

#[test]
fn no_module_depends_on_itself_through_others() {
    let mut report = Vec::new();
    for name in CRATES {
        let krate = Crate::read(&workspace().join(name).join("src"));
        let edges = graph(&krate);
        for component in cycles(&edges) {
            let members: BTreeSet<&Vec<String>> = component.iter().collect();
            let lines: Vec<String> = component
                .iter()
                .map(|m| {
                    let inside: Vec<String> = edges[m]
                        .iter()
                        .filter(|t| members.contains(t))
                        .map(|t| show(t))
                        .collect();
                    format!("    {} -> {}", show(m), inside.join(", "))
                })
                .collect();
            report.push(format!(
                "{name}: a cycle of {} modules\n{}",
                component.len(),
                lines.join("\n")
            ));
        }
    }
    assert!(report.is_empty(), "import cycles:\n{}", report.join("\n"));
}

/// The check sees a cycle when there is one: two modules of a made-up crate naming each
/// other, one through a grouped `use`, the other through a path in a macro call.
#[test]
fn a_made_up_cycle_is_found() {
    let dir = std::env::temp_dir().join(format!("ms5-cycles-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("jobs")).expect("temp folder");
    std::fs::write(dir.join("lib.rs"), "mod state;\nmod jobs;\n").expect("write");
    std::fs::write(
        dir.join("state.rs"),
        "use crate::{jobs::config::JobConfig, error};\npub struct AppState;\n",
    )
    .expect("write");
    std::fs::write(dir.join("jobs/mod.rs"), "pub mod config;\n").expect("write");
    std::fs::write(
        dir.join("jobs/config.rs"),
        "pub struct JobConfig;\nfn f() { let _ = format!(\"{:?}\", crate::state::AppState); }\n",
    )
    .expect("write");
    let found = cycles(&graph(&Crate::read(&dir)));
    std::fs::remove_dir_all(&dir).ok();
    let names: Vec<Vec<String>> = found
        .iter()
        .map(|c| c.iter().map(|m| show(m)).collect())
        .collect();
    assert_eq!(
        names,
        vec![vec!["jobs::config".to_string(), "state".to_string()]]
    );
}

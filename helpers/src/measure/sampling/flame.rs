//! The flame graph: the merged call tree drawn as nested boxes in SVG.

use super::Stack;
use crate::render::html::escape;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A node of the merged call tree.
#[derive(Default)]
struct Node {
    samples: u64,
    children: BTreeMap<String, Node>,
}

const WIDTH: f64 = 900.0;
const ROW: f64 = 17.0;

pub(super) fn flame_graph_svg(stacks: &[Stack], total: u64) -> String {
    let mut root = Node::default();
    for stack in stacks {
        root.samples += stack.samples;
        let mut node = &mut root;
        for name in &stack.frames {
            node = node.children.entry(name.clone()).or_default();
            node.samples += stack.samples;
        }
    }
    let depth = stacks.iter().map(|s| s.frames.len()).max().unwrap_or(0);
    let height = (depth as f64 + 1.0) * ROW + 24.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         font-family=\"monospace\" font-size=\"11\"><text x=\"4\" y=\"14\" font-size=\"13\">\
         flame graph: {total} samples (width = share of time; callers below callees)</text>"
    );
    if total > 0 {
        // The root ("all") sits at the bottom, callees stack upwards.
        draw_node(&mut svg, "all", &root, 0.0, WIDTH, height - ROW, total);
    }
    svg.push_str("</svg>");
    svg
}

fn draw_node(svg: &mut String, name: &str, node: &Node, x: f64, width: f64, y: f64, total: u64) {
    if width < 0.5 {
        return;
    }
    let hash = name
        .bytes()
        .fold(5381u32, |h, b| h.wrapping_mul(33) ^ u32::from(b));
    let (red, green, blue) = (
        205 + hash % 50,
        80 + (hash >> 8) % 120,
        40 + (hash >> 16) % 40,
    );
    let share = 100.0 * node.samples as f64 / total as f64;
    let label_chars = ((width - 6.0) / 6.6).floor().max(0.0) as usize;
    let label: String = if name.chars().count() <= label_chars {
        name.to_owned()
    } else if label_chars >= 4 {
        name.chars().take(label_chars - 2).collect::<String>() + ".."
    } else {
        String::new()
    };
    let _ = write!(
        svg,
        "<g><title>{} ({} samples, {share:.1}%)</title><rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" \
         height=\"{h:.1}\" fill=\"rgb({red},{green},{blue})\" rx=\"2\"/><text x=\"{tx:.1}\" y=\"{ty:.1}\">{}</text></g>",
        escape(name),
        node.samples,
        escape(&label),
        w = (width - 0.5).max(0.1),
        h = ROW - 1.0,
        tx = x + 3.0,
        ty = y + ROW - 5.0,
    );
    let mut child_x = x;
    for (child_name, child) in &node.children {
        let child_width = width * child.samples as f64 / node.samples.max(1) as f64;
        draw_node(svg, child_name, child, child_x, child_width, y - ROW, total);
        child_x += child_width;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flame_graph_widths_follow_samples() {
        let stacks = vec![
            Stack {
                frames: vec!["a".into(), "b".into()],
                samples: 3,
            },
            Stack {
                frames: vec!["a".into(), "c".into()],
                samples: 1,
            },
        ];
        let svg = flame_graph_svg(&stacks, 4);
        assert!(svg.contains("<title>b (3 samples, 75.0%)</title>"), "{svg}");
        assert!(svg.contains("<title>a (4 samples, 100.0%)</title>"));
    }
}

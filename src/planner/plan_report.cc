#include "embflow/plan_report.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "core/format.h"

namespace embflow {
namespace {

std::string flow_counts(const std::map<Flow, int>& counts) {
  std::string s;
  for (const auto& [f, n] : counts) s += fmt::format("{}{} {}", s.empty() ? "" : ", ", to_string(f), n);
  return s;
}

const char* flow_colour(Flow f) {
  switch (f) {
    case Flow::kGather: return "#4e79a7";
    case Flow::kResident: return "#59a14f";
    case Flow::kTileScan: return "#f28e2b";
    case Flow::kResidentTileScan: return "#e15759";
  }
  return "#999";
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else out += c;
  }
  return out;
}

}  // namespace

std::string describe_plan(const Plan& plan, const ModelSpec& model, const PlanPrediction& p,
                          const std::vector<double>& measured, const std::vector<std::vector<double>>& measured_items) {
  std::string out;
  auto print = [&out](fmt::string_view f, const auto&... args) { out += fmt::vformat(f, fmt::make_format_args(args...)); };
  print("\nplan:       {} mapping of {} ({} tables) on {} cores, batch {}\n", plan.mapper, model.name,
             model.tables.size(), plan.workers(), plan.batch_size);
  for (const auto& n : plan.notes) print("note:       {}\n", n);
  print("\n{:>5} {:>6} {:>12} {:>13}{}  {}\n", "core", "items", "resident", "predicted us",
             measured.empty() ? "" : "   measured us", "flows");
  for (std::size_t w = 0; w < plan.workers(); ++w) {
    std::map<Flow, int> flows;
    for (const WorkItem& it : plan.items[w]) ++flows[it.flow];
    print("{:>5} {:>6} {:>12} {:>13.1f}{}  {}\n", plan.cores[w], plan.items[w].size(),
               human_bytes(static_cast<double>(p.resident_bytes[w])), p.worker_seconds[w] * 1e6,
               measured.empty() ? "" : fmt::format(" {:>13.1f}", measured[w] * 1e6), flow_counts(flows));
  }
  // Per table: gather its items from every core.
  struct TableRow {
    std::map<Flow, int> flows;
    std::set<int> cores;
    bool by_rows = false, by_bags = false;
    int parts = 0;
    double seconds = 0, measured = 0;
  };
  std::vector<TableRow> rows(model.tables.size());
  for (std::size_t w = 0; w < plan.workers(); ++w) {
    for (std::size_t i = 0; i < plan.items[w].size(); ++i) {
      const WorkItem& it = plan.items[w][i];
      TableRow& r = rows[static_cast<std::size_t>(it.table)];
      ++r.flows[it.flow];
      r.cores.insert(plan.cores[w]);
      r.by_rows |= it.rows.size() != model.tables[static_cast<std::size_t>(it.table)].rows;
      r.by_bags |= it.bags.size() != plan.batch_size;
      ++r.parts;
      r.seconds += p.item_seconds[w][i];
      if (!measured_items.empty()) r.measured += measured_items[w][i];
    }
  }
  print("\n{:<14} {:>10} {:>10} {:>5} {:>14} {:>13}{}  {}\n", "table", "rows", "bytes", "dim", "split", "predicted us",
             measured_items.empty() ? "" : "   measured us", "flows on cores");
  for (std::size_t t = 0; t < model.tables.size(); ++t) {
    const TableSpec& s = model.tables[t];
    const TableRow& r = rows[t];
    const std::string split = r.parts == 1 ? "whole" : fmt::format("{} x {}", r.by_rows ? (r.by_bags ? "rows+batch" : "rows") : "batch", r.parts);
    std::string cores;
    for (int c : r.cores) cores += fmt::format("{}{}", cores.empty() ? "" : ",", c);
    print("{:<14} {:>10} {:>10} {:>5} {:>14} {:>13.1f}{}  {} on {}\n", s.name, s.rows,
               human_bytes(static_cast<double>(s.bytes())), s.dim, split, r.seconds * 1e6,
               measured_items.empty() ? "" : fmt::format(" {:>13.1f}", r.measured * 1e6), flow_counts(r.flows), cores);
  }
  const double busiest = *std::max_element(p.worker_seconds.begin(), p.worker_seconds.end());
  print("\npredicted:  makespan {:.1f} us = busiest core {:.1f} us with DRAM traffic {:.1f} us (combined: "
             "{:.1f} us) + hand-off {:.1f} us + reduction {:.1f} us; imbalance {:.2f} (busiest / mean core)\n",
             p.makespan * 1e6, busiest * 1e6, p.dram_seconds * 1e6, combine_busy_and_dram(busiest, p.dram_seconds) * 1e6,
             p.overhead_seconds * 1e6, p.reduce_seconds * 1e6, p.imbalance());
  return out;
}

std::string plan_svg(const Plan& plan, const ModelSpec& model, const PlanPrediction& p,
                     const std::vector<double>& measured) {
  const double width = 760, left = 70, top = 40, bar = measured.empty() ? 18 : 14, gap = measured.empty() ? 8 : 16;
  double longest = *std::max_element(p.worker_seconds.begin(), p.worker_seconds.end());
  for (double m : measured) longest = std::max(longest, m);
  if (longest <= 0) longest = 1e-6;
  const double scale = (width - left - 20) / longest;
  const double height = top + static_cast<double>(plan.workers()) * (bar + gap) + 70;
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0f}\" height=\"{:.0f}\" font-family=\"sans-serif\" "
      "font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"{:.0f}\" y=\"18\" font-size=\"13\">{}: {} on {} cores, batch {}; predicted makespan {:.1f} us{}</text>\n",
      width, height, left, xml_escape(plan.mapper), xml_escape(model.name), plan.workers(), plan.batch_size,
      p.makespan * 1e6, measured.empty() ? "" : " (thin bars: measured)");
  for (std::size_t w = 0; w < plan.workers(); ++w) {
    const double y = top + static_cast<double>(w) * (bar + gap);
    svg += fmt::format("<text x=\"{:.0f}\" y=\"{:.1f}\" text-anchor=\"end\">core {}</text>\n", left - 6, y + bar * 0.75,
                       plan.cores[w]);
    double x = left;
    for (std::size_t i = 0; i < plan.items[w].size(); ++i) {
      const WorkItem& it = plan.items[w][i];
      const double len = p.item_seconds[w][i] * scale;
      svg += fmt::format("<rect x=\"{:.2f}\" y=\"{:.1f}\" width=\"{:.2f}\" height=\"{:.0f}\" fill=\"{}\" stroke=\"white\" "
                         "stroke-width=\"0.5\"><title>{} {} bags [{}, {}) rows [{}, {}): {:.1f} us</title></rect>\n",
                         x, y, len, bar, flow_colour(it.flow), xml_escape(model.tables[static_cast<std::size_t>(it.table)].name),
                         to_string(it.flow), it.bags.begin, it.bags.end, it.rows.begin, it.rows.end,
                         p.item_seconds[w][i] * 1e6);
      x += len;
    }
    if (!measured.empty()) {
      svg += fmt::format("<rect x=\"{:.0f}\" y=\"{:.1f}\" width=\"{:.2f}\" height=\"5\" fill=\"#333\"><title>measured "
                         "{:.1f} us</title></rect>\n",
                         left, y + bar + 2, measured[w] * scale, measured[w] * 1e6);
    }
  }
  const double axis = top + static_cast<double>(plan.workers()) * (bar + gap) + 4;
  svg += fmt::format("<line x1=\"{0:.0f}\" y1=\"{1:.0f}\" x2=\"{2:.0f}\" y2=\"{1:.0f}\" stroke=\"#333\"/>\n", left, axis,
                     left + longest * scale);
  for (int k = 0; k <= 4; ++k) {
    const double s = longest * k / 4;
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.0f}\" text-anchor=\"middle\">{:.0f} us</text>\n", left + s * scale,
                       axis + 14, s * 1e6);
  }
  double lx = left;
  for (Flow f : kAllFlows) {
    svg += fmt::format("<rect x=\"{:.0f}\" y=\"{:.0f}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{:.0f}\" "
                       "y=\"{:.0f}\">{} ({})</text>\n",
                       lx, axis + 26, flow_colour(f), lx + 16, axis + 36, to_string(f), paper_name(f));
    lx += 165;
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace embflow

#include "embflow/plan.h"

#include <algorithm>
#include <numeric>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "embflow/error.h"

namespace embflow {
namespace {

using nlohmann::json;

[[noreturn]] void bad(std::string_view source, const std::string& what) {
  throw InvalidInput(fmt::format("{}: {}", source, what));
}

}  // namespace

std::string plan_to_json(const Plan& plan) {
  json workers = json::array();
  for (std::size_t w = 0; w < plan.workers(); ++w) {
    json items = json::array();
    for (const WorkItem& it : plan.items[w]) {
      items.push_back({{"table", it.table},
                       {"flow", std::string(to_string(it.flow))},
                       {"bags", {it.bags.begin, it.bags.end}},
                       {"rows", {it.rows.begin, it.rows.end}}});
    }
    json worker{{"core", plan.cores[w]}, {"items", items}};
    if (w < plan.predicted_worker_seconds.size()) worker["predicted_seconds"] = plan.predicted_worker_seconds[w];
    workers.push_back(std::move(worker));
  }
  json doc{{"format", "embflow-plan"}, {"version", Plan::kVersion}, {"model", plan.model},
           {"batch_size", plan.batch_size}, {"mapper", plan.mapper}};
  if (!plan.profile.empty()) doc["prediction"] = {{"profile", plan.profile}, {"makespan_seconds", plan.predicted_makespan}};
  if (!plan.notes.empty()) doc["notes"] = plan.notes;
  if (!plan.workload.empty()) doc["workload"] = plan.workload;
  if (plan.l2_prefetch_lead) doc["l2_prefetch_lead_lines"] = plan.l2_prefetch_lead->lines;
  doc["workers"] = std::move(workers);
  return doc.dump(1);
}

Plan parse_plan_json(std::string_view text, std::string_view source) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    bad(source, fmt::format("not valid JSON: {}", e.what()));
  }
  try {
    if (doc.value("format", "") != "embflow-plan") bad(source, "field 'format' is not 'embflow-plan'");
    if (doc.value("version", 0) != Plan::kVersion) {
      bad(source, fmt::format("field 'version' is {}, this build reads version {}", doc.value("version", 0), Plan::kVersion));
    }
    Plan plan;
    plan.model = doc.at("model").get<std::string>();
    plan.batch_size = doc.at("batch_size").get<std::int64_t>();
    plan.mapper = doc.value("mapper", "manual");
    if (doc.contains("prediction")) {
      plan.profile = doc["prediction"].at("profile").get<std::string>();
      plan.predicted_makespan = doc["prediction"].at("makespan_seconds").get<double>();
    }
    if (doc.contains("notes")) plan.notes = doc["notes"].get<std::vector<std::string>>();
    plan.workload = doc.value("workload", "");
    if (doc.contains("l2_prefetch_lead_lines")) {
      const json& lead = doc["l2_prefetch_lead_lines"];
      L2PrefetchLead l;
      if (!lead.is_array() || lead.size() != l.lines.size()) {
        bad(source, fmt::format("'l2_prefetch_lead_lines' must be {} numbers of lines (rows of up to 64, 128, 256 bytes "
                                "and wider)", l.lines.size()));
      }
      for (std::size_t i = 0; i < l.lines.size(); ++i) {
        const double lines = lead[i].get<double>();
        if (!(lines >= 1 && lines <= kMaxL2PrefetchLeadLines)) {
          bad(source, fmt::format("'l2_prefetch_lead_lines'[{}] is {}, not 1 to {}", i, lines, kMaxL2PrefetchLeadLines));
        }
        l.lines[i] = static_cast<int>(lines);
      }
      plan.l2_prefetch_lead = l;
    }
    const json& workers = doc.at("workers");
    for (std::size_t w = 0; w < workers.size(); ++w) {
      plan.cores.push_back(workers[w].at("core").get<int>());
      if (workers[w].contains("predicted_seconds")) {
        plan.predicted_worker_seconds.push_back(workers[w]["predicted_seconds"].get<double>());
      }
      std::vector<WorkItem> items;
      const json& list = workers[w].at("items");
      for (std::size_t i = 0; i < list.size(); ++i) {
        const json& j = list[i];
        WorkItem it;
        it.table = j.at("table").get<int>();
        try {
          it.flow = parse_flow(j.at("flow").get<std::string>());
        } catch (const InvalidInput& e) {
          bad(source, fmt::format("workers[{}].items[{}].flow: {}", w, i, e.what()));
        }
        const json& b = j.at("bags");
        const json& r = j.at("rows");
        if (!b.is_array() || b.size() != 2 || !r.is_array() || r.size() != 2) {
          bad(source, fmt::format("workers[{}].items[{}]: 'bags' and 'rows' must be [begin, end]", w, i));
        }
        it.bags = {b[0].get<std::int64_t>(), b[1].get<std::int64_t>()};
        it.rows = {r[0].get<std::int64_t>(), r[1].get<std::int64_t>()};
        items.push_back(it);
      }
      plan.items.push_back(std::move(items));
    }
    if (!plan.predicted_worker_seconds.empty() && plan.predicted_worker_seconds.size() != plan.cores.size()) {
      bad(source, "'predicted_seconds' is given for some workers and not others");
    }
    return plan;
  } catch (const json::exception& e) {
    bad(source, fmt::format("malformed plan: {}", e.what()));
  }
}

void validate_plan(const Plan& plan, const ModelSpec& model, int machine_cores) {
  if (plan.model != model.name) {
    throw InvalidInput(fmt::format("plan is for model '{}', not '{}'", plan.model, model.name));
  }
  if (plan.batch_size < 0) throw InvalidInput(fmt::format("plan batch size {} is negative", plan.batch_size));
  if (plan.cores.size() != plan.items.size() || plan.cores.empty()) {
    throw InvalidInput("plan: needs at least one worker, each with a core and a list of items");
  }
  std::set<int> seen;
  for (int c : plan.cores) {
    if (c < 0 || c >= machine_cores) {
      throw InvalidInput(fmt::format("plan uses core {}, this machine has cores 0 to {}", c, machine_cores - 1));
    }
    if (!seen.insert(c).second) throw InvalidInput(fmt::format("plan uses core {} for two workers", c));
  }
  const int n = static_cast<int>(model.tables.size());
  std::vector<std::vector<WorkItem>> by_table(static_cast<std::size_t>(n));
  for (std::size_t w = 0; w < plan.workers(); ++w) {
    for (const WorkItem& it : plan.items[w]) {
      if (it.table < 0 || it.table >= n) {
        throw InvalidInput(fmt::format("plan: core {} has an item for table {}, the model has tables 0 to {}",
                                       plan.cores[w], it.table, n - 1));
      }
      const TableSpec& t = model.tables[static_cast<std::size_t>(it.table)];
      if (it.bags.begin < 0 || it.bags.end > plan.batch_size || it.bags.begin >= it.bags.end) {
        throw InvalidInput(fmt::format("plan: table '{}' on core {}: bags [{}, {}) are empty or outside [0, {})",
                                       t.name, plan.cores[w], it.bags.begin, it.bags.end, plan.batch_size));
      }
      if (it.rows.begin < 0 || it.rows.end > t.rows || it.rows.begin >= it.rows.end) {
        throw InvalidInput(fmt::format("plan: table '{}' on core {}: rows [{}, {}) are empty or outside [0, {})",
                                       t.name, plan.cores[w], it.rows.begin, it.rows.end, t.rows));
      }
      by_table[static_cast<std::size_t>(it.table)].push_back(it);
    }
  }
  // Exactly once: the items' rectangles must not overlap and must cover batch x rows.
  for (int t = 0; t < n; ++t) {
    const auto& items = by_table[static_cast<std::size_t>(t)];
    const TableSpec& spec = model.tables[static_cast<std::size_t>(t)];
    if (plan.batch_size == 0) continue;
    if (items.empty()) throw InvalidInput(fmt::format("plan leaves table '{}' out", spec.name));
    unsigned __int128 area = 0;
    for (std::size_t i = 0; i < items.size(); ++i) {
      const auto& a = items[i];
      area += static_cast<unsigned __int128>(a.bags.end - a.bags.begin) * static_cast<unsigned __int128>(a.rows.size());
      for (std::size_t j = i + 1; j < items.size(); ++j) {
        const auto& b = items[j];
        const bool overlap = a.bags.begin < b.bags.end && b.bags.begin < a.bags.end && a.rows.begin < b.rows.end &&
                             b.rows.begin < a.rows.end;
        if (overlap) {
          throw InvalidInput(fmt::format("plan serves table '{}' twice: bags [{}, {}) x rows [{}, {}) and bags [{}, {}) x "
                                         "rows [{}, {}) overlap",
                                         spec.name, a.bags.begin, a.bags.end, a.rows.begin, a.rows.end, b.bags.begin,
                                         b.bags.end, b.rows.begin, b.rows.end));
        }
      }
    }
    const auto full = static_cast<unsigned __int128>(plan.batch_size) * static_cast<unsigned __int128>(spec.rows);
    if (area != full) throw InvalidInput(fmt::format("plan leaves part of table '{}' unserved", spec.name));
  }
}

namespace {
// A plan with `cores` workers on cores 0 .. cores-1 and no items yet.
Plan empty_plan(const ModelSpec& model, std::int64_t batch_size, int cores, const char* mapper) {
  if (cores < 1) throw InvalidInput(fmt::format("need at least one core, got {}", cores));
  Plan p;
  p.model = model.name;
  p.batch_size = batch_size;
  p.mapper = mapper;
  p.items.resize(static_cast<std::size_t>(cores));
  for (int c = 0; c < cores; ++c) p.cores.push_back(c);
  return p;
}
}  // namespace

Plan symmetric_plan(const ModelSpec& model, std::int64_t batch_size, int cores) {
  Plan p = empty_plan(model, batch_size, cores, "symmetric");
  for (int t = 0; t < static_cast<int>(model.tables.size()); ++t) {
    for (int c = 0; c < cores; ++c) {
      const BagRange bags{batch_size * c / cores, batch_size * (c + 1) / cores};
      if (bags.end > bags.begin) p.items[c].push_back({t, Flow::kGather, bags, {0, model.tables[t].rows}});
    }
  }
  return p;
}

Plan table_wise_plan(const ModelSpec& model, std::int64_t batch_size, int cores, const std::vector<double>& table_seconds) {
  if (table_seconds.size() != model.tables.size()) {
    throw InvalidInput(fmt::format("table-wise: {} costs for {} tables", table_seconds.size(), model.tables.size()));
  }
  Plan p = empty_plan(model, batch_size, cores, "table-wise");
  if (batch_size == 0) return p;
  std::vector<int> order(model.tables.size());
  std::iota(order.begin(), order.end(), 0);
  // Largest first; ties by table index, so the plan is deterministic.
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return table_seconds[a] > table_seconds[b]; });
  std::vector<double> load(static_cast<std::size_t>(cores), 0.0);
  for (int t : order) {
    const auto c = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    load[c] += table_seconds[t];
    p.items[c].push_back({t, Flow::kGather, {0, batch_size}, {0, model.tables[t].rows}});
  }
  return p;
}

}  // namespace embflow

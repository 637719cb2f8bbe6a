// A plan as people read it: per core and per table tables, and an SVG chart of per-core time.
#pragma once
#include <string>
#include <vector>

#include "embflow/cost_model.h"
#include "embflow/plan.h"

namespace embflow {

// Per core: items, flows, resident bytes, predicted (and measured) busy time; per table: split,
// flows, cores, predicted (and measured) time; then the makespan's terms and the imbalance.
// `measured`: seconds per worker from a run, and `measured_items` per item ([worker][item]), or
// empty.
std::string describe_plan(const Plan& plan, const ModelSpec& model, const PlanPrediction& predicted,
                          const std::vector<double>& measured = {},
                          const std::vector<std::vector<double>>& measured_items = {});

// An SVG bar chart: one bar per core, its items stacked in plan order, coloured by flow, their
// predicted seconds; beside it a thin bar of the measured busy time when `measured` is given.
std::string plan_svg(const Plan& plan, const ModelSpec& model, const PlanPrediction& predicted,
                     const std::vector<double>& measured = {});

}  // namespace embflow

// depthctl's subcommands. Each returns the process exit code.
#ifndef DEPTHD_CLIENT_COMMANDS_H_
#define DEPTHD_CLIENT_COMMANDS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "depthd/v1/depthd.pb.h"

namespace depthd::client {

int RunCommand(const std::vector<std::string>& args);
int LiveCommand(const std::vector<std::string>& args);
int SubmitCommand(const std::vector<std::string>& args);
int WatchCommand(const std::vector<std::string>& args);
int FetchCommand(const std::vector<std::string>& args);
int JobsCommand(const std::vector<std::string>& args);
int DeleteCommand(const std::vector<std::string>& args);
int InfoCommand();
int HealthCommand();
int JobCommand(const std::vector<std::string>& args);
int CancelCommand(const std::vector<std::string>& args);
int CompareCommand(const std::vector<std::string>& args);

// The JobSpec from the command line: only the options given are set.
absl::StatusOr<v1::JobSpec> SpecFromFlags();
// "inference" for STAGE_INFERENCE.
std::string StageName(v1::Stage stage);
// One line per job: id, state, stage, frames, error.
std::string DescribeJob(const v1::JobStatus& job);
// The Summary's lines, as `run` prints them.
std::string DescribeSummary(const v1::Summary& summary, double wall_seconds);

}  // namespace depthd::client

#endif  // DEPTHD_CLIENT_COMMANDS_H_

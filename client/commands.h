// depthctl's subcommands. Each returns the process exit code.
#ifndef DEPTHD_CLIENT_COMMANDS_H_
#define DEPTHD_CLIENT_COMMANDS_H_

#include <string>
#include <vector>

namespace depthd::client {

int RunCommand(const std::vector<std::string>& args);
int InfoCommand();
int HealthCommand();
int JobCommand(const std::vector<std::string>& args);
int CancelCommand(const std::vector<std::string>& args);
int CompareCommand(const std::vector<std::string>& args);

}  // namespace depthd::client

#endif  // DEPTHD_CLIENT_COMMANDS_H_

#include "client/connection.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "client/flags.h"

namespace depthd::client {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path, const char* flag) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", flag, " ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Token() {
  static const std::string token = [] {
    const std::string file = absl::GetFlag(FLAGS_token_file);
    if (!file.empty()) {
      auto text = ReadFile(file, "--token_file");
      if (text.ok()) return std::string(absl::StripAsciiWhitespace(*text));
      std::cerr << "depthctl: " << text.status().message() << "\n";
      std::exit(2);
    }
    const char* env = std::getenv("DEPTHD_TOKEN");
    return std::string(env != nullptr ? absl::StripAsciiWhitespace(env) : "");
  }();
  return token;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::Channel>> Connect() {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(256 << 20);
  const std::string ca = absl::GetFlag(FLAGS_tls_ca);
  const std::string cert = absl::GetFlag(FLAGS_tls_cert);
  const std::string key = absl::GetFlag(FLAGS_tls_key);
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!ca.empty() || !cert.empty() || absl::GetFlag(FLAGS_tls)) {
    grpc::SslCredentialsOptions ssl;
    if (!ca.empty()) {
      auto pem = ReadFile(ca, "--tls_ca");
      if (!pem.ok()) return pem.status();
      ssl.pem_root_certs = *pem;
    }
    if (cert.empty() != key.empty()) {
      return absl::InvalidArgumentError("a client certificate needs both --tls_cert and --tls_key");
    }
    if (!cert.empty()) {
      auto cert_pem = ReadFile(cert, "--tls_cert");
      if (!cert_pem.ok()) return cert_pem.status();
      auto key_pem = ReadFile(key, "--tls_key");
      if (!key_pem.ok()) return key_pem.status();
      ssl.pem_cert_chain = *cert_pem;
      ssl.pem_private_key = *key_pem;
    }
    credentials = grpc::SslCredentials(ssl);
    if (!absl::GetFlag(FLAGS_tls_server_name).empty()) {
      arguments.SetSslTargetNameOverride(absl::GetFlag(FLAGS_tls_server_name));
    }
  }
  return grpc::CreateCustomChannel(absl::GetFlag(FLAGS_server), credentials, arguments);
}

absl::StatusOr<std::unique_ptr<v1::DepthService::Stub>> ConnectService() {
  auto channel = Connect();
  if (!channel.ok()) return channel.status();
  return v1::DepthService::NewStub(*channel);
}

void Prepare(grpc::ClientContext& context, bool with_timeout) {
  const absl::Duration timeout = absl::GetFlag(FLAGS_timeout);
  if (with_timeout && timeout > absl::ZeroDuration()) {
    context.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  }
  const std::string token = Token();
  if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
}

std::string CodeName(grpc::StatusCode code) {
  static const char* kNames[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT",
                                 "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
                                 "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
                                 "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL",
                                 "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
  const int index = static_cast<int>(code);
  return index >= 0 && index <= 16 ? kNames[index] : "ERROR";
}

int Fail(const grpc::Status& status) {
  std::cerr << "depthctl: " << CodeName(status.error_code()) << ": " << status.error_message() << "\n";
  return 1;
}

int Fail(const absl::Status& status) {
  std::cerr << "depthctl: " << absl::StatusCodeToString(status.code()) << ": " << status.message() << "\n";
  return 1;
}

bool Transient(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE;
}

}  // namespace depthd::client

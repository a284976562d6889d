// depthd on a network: TLS (server-only and mutual) with certificates made here by openssl,
// bearer tokens and tenants, the loopback-only default, uploads that cannot reach the server's
// files, and nothing of the server's paths in what a client sees.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "grpc/health/v1/health.grpc.pb.h"
#include "tests/server/e2e_support.h"

namespace depthd {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

class SecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(testing::TempDir("security"));
    const std::string d = *dir_;
    // A CA, a server certificate for 127.0.0.1 and localhost, and a client certificate.
    const std::string script =
        "cd " + d + " && "
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=depthd-test-ca "
        "-keyout ca.key -out ca.pem 2>/dev/null && "
        "openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key "
        "-out server.csr 2>/dev/null && "
        "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost' > san.ext && "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
        "-extfile san.ext -out server.pem 2>/dev/null && "
        "openssl req -newkey rsa:2048 -nodes -subj /CN=alice-laptop -keyout client.key "
        "-out client.csr 2>/dev/null && "
        "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
        "-out client.pem 2>/dev/null";
    ASSERT_EQ(std::system(script.c_str()), 0);
    std::ofstream(d + "/tokens") << "# token tenant\n"
                                    "alice-token-0123456789 alice\n"
                                    "bob-token-abcdefghijkl bob\n";
    model_ = new std::string(testing::WriteFixtureModel(d, 0));
    video_ = new std::string(testing::ReadFile(testing::WriteTestVideo(d, 8, 64, 48)));
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
    delete model_;
    delete video_;
  }

  static std::string Pem(const std::string& name) { return testing::ReadFile(*dir_ + "/" + name); }

  static std::unique_ptr<v1::DepthService::Stub> TlsStub(const testing::DepthdProcess& server,
                                                         bool client_cert) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = Pem("ca.pem");
    if (client_cert) {
      ssl.pem_cert_chain = Pem("client.pem");
      ssl.pem_private_key = Pem("client.key");
    }
    return v1::DepthService::NewStub(grpc::CreateChannel(server.address(), grpc::SslCredentials(ssl)));
  }

  static testing::EstimateResult EstimateWithToken(v1::DepthService::Stub& stub, const std::string& token) {
    grpc::ClientContext context;
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    auto stream = stub.Estimate(&context);
    v1::EstimateRequest request;
    *request.mutable_spec() = testing::SmallJobSpec();
    stream->Write(request);
    v1::EstimateRequest chunk;
    chunk.mutable_chunk()->set_data(*video_);
    stream->Write(chunk);
    stream->WritesDone();
    testing::EstimateResult result;
    v1::EstimateResponse response;
    while (stream->Read(&response)) result.responses.push_back(response);
    result.status = stream->Finish();
    return result;
  }

  template <typename Request, typename Response, typename Call>
  static grpc::Status CallAs(const std::string& token, Call call, const Request& request, Response* response) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + token);
    return call(&context, request, response);
  }

  static std::string* dir_;
  static std::string* model_;
  static std::string* video_;
};
std::string* SecurityTest::dir_ = nullptr;
std::string* SecurityTest::model_ = nullptr;
std::string* SecurityTest::video_ = nullptr;

TEST_F(SecurityTest, ServerOnlyTls) {
  testing::DepthdProcess server({"--model", *model_, "--tls_cert", *dir_ + "/server.pem",
                                 "--tls_key", *dir_ + "/server.key"});
  ASSERT_TRUE(server.WaitServing(60, /*tls_ca=*/Pem("ca.pem"))) << server.log();
  auto stub = TlsStub(server, false);
  const auto result = testing::Estimate(*stub, testing::SmallJobSpec(), *video_);
  EXPECT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.frames().size(), 8u);
  // A plaintext client gets nowhere.
  const auto plain = testing::Estimate(*server.Stub(), testing::SmallJobSpec(), *video_, 3);
  EXPECT_EQ(plain.status.error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(SecurityTest, MutualTlsNeedsAClientCertificateTheCaSigned) {
  testing::DepthdProcess server({"--model", *model_, "--tls_cert", *dir_ + "/server.pem",
                                 "--tls_key", *dir_ + "/server.key", "--tls_client_ca",
                                 *dir_ + "/ca.pem"});
  ASSERT_TRUE(server.WaitServing(60, Pem("ca.pem"), Pem("client.pem"), Pem("client.key"))) << server.log();
  const auto without = testing::Estimate(*TlsStub(server, false), testing::SmallJobSpec(), *video_, 3);
  EXPECT_EQ(without.status.error_code(), grpc::StatusCode::UNAVAILABLE) << without.status.error_message();
  auto with = TlsStub(server, true);
  const auto result = testing::Estimate(*with, testing::SmallJobSpec(), *video_);
  EXPECT_TRUE(result.status.ok()) << result.status.error_message();
  // Without tokens, the certificate's name is the tenant: the job is found by its owner.
  grpc::ClientContext context;
  v1::GetJobRequest get;
  get.set_job_id(result.job_id());
  v1::JobStatus job;
  EXPECT_TRUE(with->GetJob(&context, get, &job).ok());
}

TEST_F(SecurityTest, TokensAndTenants) {
  testing::DepthdProcess server({"--model", *model_, "--auth_tokens", *dir_ + "/tokens"});
  ASSERT_TRUE(server.WaitServing()) << server.log();  // health needs no token
  auto stub = server.Stub();
  const auto missing = EstimateWithToken(*stub, "");
  EXPECT_EQ(missing.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(missing.status.error_message(), HasSubstr("authorization: Bearer"));
  const auto wrong = EstimateWithToken(*stub, "alice-token-0123456788");
  EXPECT_EQ(wrong.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  grpc::ClientContext info_context;
  v1::ServerInfo info;
  EXPECT_EQ(stub->GetServerInfo(&info_context, {}, &info).error_code(), grpc::StatusCode::UNAUTHENTICATED);

  const auto alice = EstimateWithToken(*stub, "alice-token-0123456789");
  ASSERT_TRUE(alice.status.ok()) << alice.status.error_message();
  const std::string id = alice.job_id();
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(EstimateWithToken(*stub, "alice-token-0123456789").job_id(), id);

  // Bob cannot see, fetch, cancel or delete Alice's job: for him it does not exist.
  v1::GetJobRequest get;
  get.set_job_id(id);
  v1::JobStatus status;
  auto get_job = [&](grpc::ClientContext* c, const v1::GetJobRequest& r, v1::JobStatus* s) {
    return stub->GetJob(c, r, s);
  };
  EXPECT_TRUE(CallAs("alice-token-0123456789", get_job, get, &status).ok());
  EXPECT_EQ(CallAs("bob-token-abcdefghijkl", get_job, get, &status).error_code(), grpc::StatusCode::NOT_FOUND);
  v1::CancelJobRequest cancel;
  cancel.set_job_id(id);
  EXPECT_EQ(CallAs("bob-token-abcdefghijkl",
                   [&](grpc::ClientContext* c, const v1::CancelJobRequest& r, v1::JobStatus* s) {
                     return stub->CancelJob(c, r, s);
                   },
                   cancel, &status).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::DeleteJobRequest remove;
  remove.set_job_id(id);
  EXPECT_EQ(CallAs("bob-token-abcdefghijkl",
                   [&](grpc::ClientContext* c, const v1::DeleteJobRequest& r, v1::JobStatus* s) {
                     return stub->DeleteJob(c, r, s);
                   },
                   remove, &status).error_code(),
            grpc::StatusCode::NOT_FOUND);
  {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer bob-token-abcdefghijkl");
    v1::FetchResultRequest fetch;
    fetch.set_job_id(id);
    auto reader = stub->FetchResult(&context, fetch);
    v1::EstimateResponse response;
    EXPECT_FALSE(reader->Read(&response));
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
  }
  v1::ListJobsResponse bobs, alices;
  auto list = [&](grpc::ClientContext* c, const v1::ListJobsRequest& r, v1::ListJobsResponse* s) {
    return stub->ListJobs(c, r, s);
  };
  ASSERT_TRUE(CallAs("bob-token-abcdefghijkl", list, v1::ListJobsRequest(), &bobs).ok());
  ASSERT_TRUE(CallAs("alice-token-0123456789", list, v1::ListJobsRequest(), &alices).ok());
  EXPECT_EQ(bobs.jobs_size(), 0);
  EXPECT_EQ(alices.jobs_size(), 2);
  // Alice's job is still there and untouched.
  EXPECT_TRUE(CallAs("alice-token-0123456789", get_job, get, &status).ok());
  EXPECT_EQ(status.state(), v1::JOB_STATE_SUCCEEDED);
}

TEST_F(SecurityTest, BeyondLoopbackNeedsTlsAndTokensOrAnExplicitRisk) {
  const int port = testing::FreePort();
  const std::string log = *dir_ + "/insecure.log";
  const std::string command = std::string(DEPTHD_SERVER_BIN) + " --listen 0.0.0.0:" +
                              std::to_string(port) + " --metrics_listen '' --model " + *model_ +
                              " --state_dir " + *dir_ + "/insecure_state 2> " + log;
  EXPECT_NE(std::system(command.c_str()), 0);
  EXPECT_THAT(testing::ReadFile(log), HasSubstr("refusing to serve 0.0.0.0"));
  EXPECT_THAT(testing::ReadFile(log), HasSubstr("--allow_insecure"));
  testing::DepthdProcess allowed({"--model", *model_, "--listen_override",
                                  "0.0.0.0:" + std::to_string(testing::FreePort()), "--allow_insecure"});
  ASSERT_TRUE(allowed.WaitServing()) << allowed.log();
  EXPECT_THAT(allowed.log(), HasSubstr("WARNING"));
}

// A playlist or concat list naming a real file on the server reads nothing of it.
TEST_F(SecurityTest, UploadsCannotNameServerFiles) {
  testing::DepthdProcess server({"--model", *model_});
  ASSERT_TRUE(server.WaitServing()) << server.log();
  const std::string victim = testing::WriteTestVideo(*dir_, 10, 64, 48);
  for (const std::string& upload :
       {"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\nfile://" + victim + "\n#EXT-X-ENDLIST\n",
        "ffconcat version 1.0\nfile '" + victim + "'\n"}) {
    const auto result = testing::Estimate(*server.Stub(), testing::SmallJobSpec(), upload);
    EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << upload;
    EXPECT_TRUE(result.frames().empty());
    EXPECT_THAT(result.status.error_message(), HasSubstr("does not accept"));
    EXPECT_THAT(result.status.error_message(), Not(HasSubstr(victim)));
  }
}

TEST_F(SecurityTest, NothingOfTheServersPathsReachesAClient) {
  testing::DepthdProcess server({"--model", *model_});
  ASSERT_TRUE(server.WaitServing()) << server.log();
  grpc::ClientContext context;
  v1::ServerInfo info;
  ASSERT_TRUE(server.Stub()->GetServerInfo(&context, {}, &info).ok());
  EXPECT_EQ(info.model().sha256().size(), 64u);
  EXPECT_THAT(info.DebugString(), Not(HasSubstr(*dir_)));
  const auto garbage = testing::Estimate(*server.Stub(), testing::SmallJobSpec(), std::string(4000, 'x'));
  EXPECT_EQ(garbage.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(garbage.status.error_message(), HasSubstr("the upload"));
  EXPECT_THAT(garbage.status.error_message(), Not(HasSubstr(server.spool_dir())));
  EXPECT_THAT(garbage.status.error_message(), Not(HasSubstr(server.state_dir())));
}

}  // namespace
}  // namespace depthd

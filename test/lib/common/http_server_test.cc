#include "kubedl/common/http_server.h"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_client.h"

namespace kubedl::common {
namespace {

using ::testing::HasSubstr;
using testing::ClientTls;
using testing::TestClient;
namespace http = boost::beast::http;

HttpRoutes EchoRoutes() {
  HttpRoutes routes;
  routes["/echo"] = [](const HttpRequest& req) {
    return HttpResponse{.body = std::string(req.method) + " " + std::string(req.path) + " q=" +
                                std::string(req.query) + " body=" + std::string(req.body)};
  };
  routes["/throw"] = [](const HttpRequest&) -> HttpResponse {
    throw std::runtime_error("boom");
  };
  return routes;
}

std::unique_ptr<HttpServer> Start(HttpServerOptions options, HttpRoutes routes = EchoRoutes()) {
  options.address = "127.0.0.1";
  auto server = StartHttpServer(std::move(options), std::move(routes));
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

http::request<http::string_body> Post(const std::string& target, std::string body) {
  http::request<http::string_body> req(http::verb::post, target, 11);
  req.set(http::field::content_type, "application/json");
  req.body() = std::move(body);
  return req;
}

TEST(HttpServerTest, RoutesByExactPathAndHandsTheQueryToTheHandler) {
  auto server = Start({});
  TestClient client(server->port());
  auto res = client.Get("/echo?timeout=10s");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "GET /echo q=timeout=10s body=");
  EXPECT_EQ(client.Get("/echo/more").result_int(), 404);
}

TEST(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  auto server = Start({});
  TestClient client(server->port());
  for (int i = 0; i < 50; ++i) {
    http::response<http::string_body> res;
    ASSERT_FALSE(client.Send(Post("/echo", std::to_string(i)), &res));
    ASSERT_EQ(res.body(), "POST /echo q= body=" + std::to_string(i));
    ASSERT_TRUE(res.keep_alive());
  }
}

TEST(HttpServerTest, HandlerExceptionBecomes500AndServerKeepsServing) {
  auto server = Start({});
  TestClient client(server->port());
  EXPECT_EQ(client.Get("/throw").result_int(), 500);
  EXPECT_EQ(client.Get("/echo").result_int(), 200);
}

TEST(HttpServerTest, BodyOverTheLimitIsAnswered413AndTheConnectionClosed) {
  auto server = Start({.body_limit = 1024});
  TestClient client(server->port());
  http::response<http::string_body> res;
  ASSERT_FALSE(client.Send(Post("/echo", std::string(4096, 'x')), &res));
  EXPECT_EQ(res.result_int(), 413);
  EXPECT_FALSE(res.keep_alive());
  TestClient chunked(server->port());
  // A chunked body declares no length: the limit applies while reading.
  std::string big(2048, 'y');
  ASSERT_FALSE(chunked.WriteRaw(
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" + big +
      "\r\n0\r\n\r\n"));
  std::string got;
  chunked.ReadUntilClosed(&got);
  EXPECT_THAT(got, HasSubstr("413"));
}

// Each malformed request gets its status, then the server closes the connection cleanly (FIN,
// not a reset: the client reads the whole answer and then the end of the stream).
TEST(HttpServerTest, MalformedRequestsGetTheirStatusAndACleanClose) {
  auto server = Start({.body_limit = 1024});
  const std::string big_header(9 * 1024, 'h');
  const std::string long_target(64 * 1024, 'u');
  struct Case {
    std::string name;
    std::string request;
    int status;
  };
  const std::vector<Case> cases = {
      {"bad chunk size",
       "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
       400},
      {"Content-Length with Transfer-Encoding",
       "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
       "2\r\nab\r\n0\r\n\r\n",
       400},
      {"two different Content-Lengths",
       "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc", 400},
      {"negative Content-Length", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
       400},
      {"garbage request line", "HELLO\r\n\r\n", 400},
      {"POST without a length", "POST /echo HTTP/1.1\r\nHost: x\r\n\r\n", 411},
      {"body over the limit",
       "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n" + std::string(4096, 'b'),
       413},
      {"64 KiB target", "GET /echo?" + long_target + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
      {"5 KiB target", "GET /echo?" + std::string(5 * 1024, 'u') + " HTTP/1.1\r\nHost: x\r\n\r\n",
       414},
      {"9 KiB of header fields", "GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: " + big_header + "\r\n\r\n",
       431},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TestClient client(server->port());
    ASSERT_FALSE(client.WriteRaw(c.request));
    std::string got;
    EXPECT_EQ(client.ReadUntilClosed(&got), boost::asio::error::eof) << got;
    EXPECT_THAT(got, ::testing::StartsWith("HTTP/1.1 " + std::to_string(c.status) + " ")) << got;
    EXPECT_THAT(got, HasSubstr("Connection: close"));
  }
  // None of it disturbed the server.
  TestClient after(server->port());
  EXPECT_EQ(after.Get("/echo").result_int(), 200);
}

TEST(HttpServerTest, HeadGetsTheHeadersOfAGetAndNoBody) {
  auto server = Start({});
  TestClient client(server->port());
  ASSERT_FALSE(client.WriteRaw("HEAD /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  std::string got;
  client.ReadUntilClosed(&got);
  // The GET answer's body would be "HEAD /echo q= body=": 19 bytes.
  EXPECT_THAT(got, ::testing::StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(got, HasSubstr("Content-Length: 19\r\n"));
  EXPECT_THAT(got, ::testing::EndsWith("\r\n\r\n")) << "a body followed the headers: " << got;
}

TEST(HttpServerTest, ConnectionsOverTheCapAreRefusedWith503AndTheOthersKeepWorking) {
  auto server = Start({.max_connections = 3});
  std::vector<std::unique_ptr<TestClient>> open;
  for (int i = 0; i < 3; ++i) {
    open.push_back(std::make_unique<TestClient>(server->port()));
    ASSERT_EQ(open.back()->Get("/echo").result_int(), 200);
  }
  TestClient refused(server->port());
  std::string got;
  EXPECT_EQ(refused.ReadUntilClosed(&got), boost::asio::error::eof);
  EXPECT_THAT(got, ::testing::StartsWith("HTTP/1.1 503 Service Unavailable\r\n"));
  EXPECT_THAT(got, HasSubstr("too many connections"));
  EXPECT_EQ(open[0]->Get("/echo").result_int(), 200);
  // A closed connection frees its place.
  open.pop_back();
  for (int attempt = 0;; ++attempt) {
    TestClient again(server->port());
    auto res = again.Get("/echo");
    if (res.result_int() == 200) break;
    ASSERT_LT(attempt, 50) << "the closed connection's place was never freed";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

TEST(HttpServerTest, ExpectContinueIsAnsweredBeforeTheBodyIsSent) {
  auto server = Start({});
  TestClient client(server->port());
  ASSERT_FALSE(client.WriteRaw(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n"
      "Connection: close\r\n\r\n"));
  // Only after "100 Continue" does a careful client send the body.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_FALSE(client.WriteRaw("hi"));
  std::string got;
  client.ReadUntilClosed(&got);
  EXPECT_THAT(got, HasSubstr("100 Continue"));
  EXPECT_THAT(got, HasSubstr("body=hi"));
}

TEST(HttpServerTest, IdleKeepAliveConnectionIsClosedAfterTheIdleTimeout) {
  auto server = Start({.idle_timeout = std::chrono::milliseconds(200)});
  TestClient client(server->port());
  EXPECT_EQ(client.Get("/echo").result_int(), 200);
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.ReadUntilClosed());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(HttpServerTest, SlowBodyIsCutOffAfterTheReadTimeout) {
  auto server = Start({.read_timeout = std::chrono::milliseconds(200)});
  TestClient slow(server->port());
  ASSERT_FALSE(slow.WriteRaw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab"));
  auto start = std::chrono::steady_clock::now();
  std::string got;
  EXPECT_TRUE(slow.ReadUntilClosed(&got));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_EQ(got, "");
  // Meanwhile nobody else waited on it.
  TestClient other(server->port());
  EXPECT_EQ(other.Get("/echo").result_int(), 200);
}

TEST(HttpServerTest, ShutdownLetsTheRequestInFlightFinishAndClosesIdleConnections) {
  std::promise<void> entered;
  std::promise<void> release;
  auto release_future = release.get_future().share();
  HttpRoutes routes;
  routes["/slow"] = [&](const HttpRequest&) {
    entered.set_value();
    release_future.wait();
    return HttpResponse{.body = "done"};
  };
  auto server = Start({.threads = 2}, std::move(routes));
  TestClient idle(server->port());
  TestClient busy(server->port());
  std::thread request([&] {
    auto res = busy.Get("/slow");
    EXPECT_EQ(res.body(), "done");
    EXPECT_FALSE(res.keep_alive());
  });
  entered.get_future().wait();
  std::thread stopper([&] { server->Shutdown(absl::Seconds(5)); });
  EXPECT_TRUE(idle.ReadUntilClosed());  // the idle connection is closed at once
  release.set_value();
  request.join();
  stopper.join();
  server->Wait();
}

class TlsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kubedl-http-tls-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    Gen("ca " + dir_.string() + " ca");
    Gen("server " + dir_.string() + " server " + dir_.string() + "/ca 127.0.0.1,localhost");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Gen(const std::string& args) {
    std::string cmd = "bash " KUBEDL_SOURCE_DIR "/tools/certs/gen.sh " + args;
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  HttpServerOptions TlsOptions() {
    return {.tls = TlsFiles{.cert_file = (dir_ / "server.crt").string(),
                            .key_file = (dir_ / "server.key").string(),
                            .reload_check_interval = std::chrono::milliseconds(50)}};
  }
  ClientTls Ca(int max_version = 0) { return {(dir_ / "ca.crt").string(), max_version}; }

  std::filesystem::path dir_;
};

TEST_F(TlsServerTest, ServesHttpsToAClientThatTrustsTheCa) {
  auto server = Start(TlsOptions());
  TestClient client(server->port(), Ca());
  ASSERT_FALSE(client.handshake_error()) << client.handshake_error().message();
  EXPECT_EQ(client.Get("/echo").body(), "GET /echo q= body=");
  EXPECT_EQ(client.Get("/echo").result_int(), 200);
}

TEST_F(TlsServerTest, RefusesTls11) {
  auto server = Start(TlsOptions());
  TestClient client(server->port(), Ca(TLS1_1_VERSION));
  EXPECT_TRUE(client.handshake_error());
}

TEST_F(TlsServerTest, MissingKeyFileIsAStartError) {
  auto options = TlsOptions();
  options.tls->key_file = (dir_ / "nope.key").string();
  auto server = StartHttpServer(options, {});
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(TlsServerTest, CertificateRotatedOnDiskIsServedWithoutRestart) {
  auto server = Start(TlsOptions());
  TestClient before(server->port(), Ca());
  ASSERT_FALSE(before.handshake_error());
  std::string old_serial = before.PeerSerial();
  // Rotate: write the new pair elsewhere, then move it into place (as a Secret mount does).
  Gen("server " + dir_.string() + " next " + dir_.string() + "/ca 127.0.0.1");
  std::filesystem::rename(dir_ / "next.key", dir_ / "server.key");
  std::filesystem::rename(dir_ / "next.crt", dir_ / "server.crt");
  std::string new_serial = old_serial;
  for (int i = 0; i < 100 && new_serial == old_serial; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    TestClient after(server->port(), Ca());
    ASSERT_FALSE(after.handshake_error());
    new_serial = after.PeerSerial();
  }
  EXPECT_NE(new_serial, old_serial);
  // The connection made before the rotation keeps working.
  EXPECT_EQ(before.Get("/echo").result_int(), 200);
}

TEST_F(TlsServerTest, HalfWrittenRotationKeepsServingTheOldCertificate) {
  auto server = Start(TlsOptions());
  std::string old_serial = TestClient(server->port(), Ca()).PeerSerial();
  Gen("server " + dir_.string() + " next " + dir_.string() + "/ca 127.0.0.1");
  // Only the certificate moves: it no longer matches the key.
  std::filesystem::rename(dir_ / "next.crt", dir_ / "server.crt");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  TestClient during(server->port(), Ca());
  ASSERT_FALSE(during.handshake_error());
  EXPECT_EQ(during.PeerSerial(), old_serial);
  std::filesystem::rename(dir_ / "next.key", dir_ / "server.key");
  std::string serial = old_serial;
  for (int i = 0; i < 100 && serial == old_serial; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    serial = TestClient(server->port(), Ca()).PeerSerial();
  }
  EXPECT_NE(serial, old_serial);
}

// With TLS 1.3 a client's handshake completes before the server has checked its certificate: a
// refused client learns it from the alert that ends its first request.
bool Refused(TestClient& client) {
  if (client.handshake_error()) return true;
  http::response<http::string_body> res;
  return static_cast<bool>(client.Send(http::request<http::string_body>(http::verb::get, "/echo", 11), &res));
}

class MutualTlsServerTest : public TlsServerTest {
 protected:
  void SetUp() override {
    TlsServerTest::SetUp();
    Gen("ca " + dir_.string() + " clients");
    Gen("client " + dir_.string() + " caller " + dir_.string() + "/clients kube-apiserver");
    Gen("ca " + dir_.string() + " other");
    Gen("client " + dir_.string() + " stranger " + dir_.string() + "/other kube-apiserver");
  }
  HttpServerOptions MutualOptions() {
    HttpServerOptions options = TlsOptions();
    options.tls->client_ca_file = (dir_ / "clients.crt").string();
    return options;
  }
  ClientTls As(const std::string& name) {
    return {.ca_file = (dir_ / "ca.crt").string(),
            .cert_file = (dir_ / (name + ".crt")).string(),
            .key_file = (dir_ / (name + ".key")).string()};
  }
};

TEST_F(MutualTlsServerTest, ServesAClientWhoseCertificateTheClientCaSigned) {
  auto server = Start(MutualOptions());
  TestClient client(server->port(), As("caller"));
  ASSERT_FALSE(client.handshake_error()) << client.handshake_error().message();
  EXPECT_EQ(client.Get("/echo").result_int(), 200);
  EXPECT_EQ(client.Get("/echo").result_int(), 200);  // and keeps the connection
}

TEST_F(MutualTlsServerTest, RefusesAClientWithoutACertificate) {
  auto server = Start(MutualOptions());
  TestClient client(server->port(), Ca());
  EXPECT_TRUE(Refused(client));
}

TEST_F(MutualTlsServerTest, RefusesACertificateAnotherCaSigned) {
  auto server = Start(MutualOptions());
  TestClient client(server->port(), As("stranger"));
  EXPECT_TRUE(Refused(client));
}

TEST_F(MutualTlsServerTest, AClientCaReplacedOnDiskIsTrustedWithoutRestart) {
  auto server = Start(MutualOptions());
  TestClient before(server->port(), As("caller"));
  ASSERT_FALSE(Refused(before));
  std::filesystem::copy_file(dir_ / "other.crt", dir_ / "next-clients.crt");
  std::filesystem::rename(dir_ / "next-clients.crt", dir_ / "clients.crt");
  bool stranger_served = false;
  for (int i = 0; i < 100 && !stranger_served; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    TestClient stranger(server->port(), As("stranger"));
    stranger_served = !Refused(stranger);
  }
  EXPECT_TRUE(stranger_served);
  TestClient caller(server->port(), As("caller"));
  EXPECT_TRUE(Refused(caller));  // the old CA is no longer trusted for new connections
}

TEST_F(MutualTlsServerTest, AMissingClientCaFileIsAStartError) {
  auto options = MutualOptions();
  options.tls->client_ca_file = (dir_ / "nope.crt").string();
  auto server = StartHttpServer(options, {});
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(server.status().message()), HasSubstr("nope.crt"));
}

}  // namespace
}  // namespace kubedl::common

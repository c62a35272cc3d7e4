// Self-signed certificates for TLS tests on 127.0.0.1, made by the openssl
// command (tools/run installs it), in a temporary directory removed after.
#pragma once

#include <stdlib.h>  // mkdtemp

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

// Self-signed certificates made by the openssl command: the server's (for
// 127.0.0.1) and a client's (CN streambus-test-client), each its own CA.
struct tls_files {
  std::string dir, cert, key, client_cert, client_key;
  bool ok = false;
  tls_files() {
    char tmpl[] = "/tmp/streambus_tls_XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return;
    dir = tmpl;
    cert = dir + "/cert.pem";
    key = dir + "/key.pem";
    client_cert = dir + "/client-cert.pem";
    client_key = dir + "/client-key.pem";
    ok = make(cert, key, "/CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1") &&
         make(client_cert, client_key, "/CN=streambus-test-client");
  }
  ~tls_files() {
    for (const auto* f : {&cert, &key, &client_cert, &client_key}) std::remove(f->c_str());
    if (!dir.empty()) std::remove(dir.c_str());
  }
  static bool make(const std::string& cert_file, const std::string& key_file, const std::string& subject) {
    const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj " + subject + " -keyout " +
                            key_file + " -out " + cert_file + " >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0 && std::ifstream(cert_file).good();
  }
};

// Storage URLs, environment lookup, config validation and password masking.
#include <cstdlib>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nemori/core/error.h"
#include "nemori/storage/config.h"
#include "nemori/storage/factory.h"

namespace nemori {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Runs `f` and returns the message of the E it throws (fails the test if it does not).
template <typename E, typename F>
std::string message_of(F f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an exception";
  return "";
}

// Sets (or unsets, for nullptr) an environment variable for the lifetime of the object.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }

 private:
  std::string name_;
  std::optional<std::string> old_;
};

TEST(ParseStorageUrl, MemoryUrl) {
  const StorageConfig config = parse_storage_url("memory://");
  EXPECT_EQ(config.backend, "memory");
  EXPECT_EQ(parse_storage_url("  MEMORY://  ").backend, "memory");
  EXPECT_THROW(parse_storage_url("memory://something"), ConfigError);
}

TEST(ParseStorageUrl, DuckDbPathForms) {
  EXPECT_EQ(parse_storage_url("duckdb:///var/lib/nemori.duckdb").path, "/var/lib/nemori.duckdb");
  EXPECT_EQ(parse_storage_url("duckdb://data/nemori.duckdb").path, "data/nemori.duckdb");
  EXPECT_EQ(parse_storage_url("duckdb:///./file.duckdb").path, "./file.duckdb");
  EXPECT_EQ(parse_storage_url("duckdb:///../up.duckdb").path, "../up.duckdb");
  EXPECT_EQ(parse_storage_url("duckdb://").path, "./nemori.duckdb");
  EXPECT_EQ(parse_storage_url("duckdb://:memory:").path, ":memory:");
  EXPECT_EQ(parse_storage_url("duckdb:///my%20dir/x.duckdb").path, "/my dir/x.duckdb");
  EXPECT_EQ(parse_storage_url("duckdb:///x.duckdb").backend, "duckdb");
  EXPECT_THAT(message_of<ConfigError>([] { parse_storage_url("duckdb:///x.duckdb?mode=ro"); }),
              HasSubstr("takes no parameters"));
  EXPECT_THROW(parse_storage_url("duckdb:///bad%zzescape"), ConfigError);
}

TEST(ParseStorageUrl, PostgresUrlKeepsLibpqPartsAndTakesOutNemoriParameters) {
  const StorageConfig config = parse_storage_url(
      "postgresql://user:pa%40ss@db.example:5433/nemori?sslmode=require&schema=mem&pool_size=20"
      "&acquire_timeout_ms=250&connect_timeout=7&partition_by_month=true"
      "&application_name=agent");
  EXPECT_EQ(config.backend, "postgresql");
  EXPECT_EQ(
      config.url,
      "postgresql://user:pa%40ss@db.example:5433/nemori?sslmode=require&application_name=agent");
  EXPECT_EQ(config.schema, "mem");
  EXPECT_EQ(config.pool_size, 20u);
  EXPECT_EQ(config.acquire_timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(config.connect_timeout, std::chrono::milliseconds(7000));  // libpq: seconds
  EXPECT_TRUE(config.partition_raw_data_by_month);
}

TEST(ParseStorageUrl, PostgresSchemeAliases) {
  EXPECT_EQ(parse_storage_url("postgres://u@h/db").url, "postgresql://u@h/db");
  EXPECT_EQ(
      parse_storage_url("postgresql+asyncpg://test_user:test_pass@localhost:5432/test_db").url,
      "postgresql://test_user:test_pass@localhost:5432/test_db");
  EXPECT_EQ(parse_storage_url("POSTGRESQL+ASYNCPG://u@h/db").backend, "postgresql");
  // asyncpg's ssl parameter becomes libpq's sslmode.
  EXPECT_EQ(parse_storage_url("postgresql+asyncpg://u@h/db?ssl=require").url,
            "postgresql://u@h/db?sslmode=require");
  EXPECT_EQ(parse_storage_url("postgresql://").url, "postgresql://");
  EXPECT_EQ(parse_storage_url("postgresql://[::1]:5432,h2:6000/db").url,
            "postgresql://[::1]:5432,h2:6000/db");
}

TEST(ParseStorageUrl, ReadReplicaUrlIsDecodedAndNormalised) {
  const StorageConfig config = parse_storage_url(
      "postgresql://u:p@primary/"
      "db?read_replica_url=postgresql%2Basyncpg%3A%2F%2Fu%3Ap%40replica%2Fdb");
  EXPECT_EQ(config.read_replica_url, "postgresql://u:p@replica/db");
  EXPECT_EQ(config.url, "postgresql://u:p@primary/db");
}

TEST(ParseStorageUrl, BadPostgresValuesNameTheProblemAndHideThePassword) {
  const std::string port =
      message_of<ConfigError>([] { parse_storage_url("postgresql://u:secret@h:54x2/db"); });
  EXPECT_THAT(port, HasSubstr("port \"54x2\""));
  EXPECT_THAT(port, Not(HasSubstr("secret")));
  EXPECT_THAT(message_of<ConfigError>([] { parse_storage_url("postgresql://h:70000/db"); }),
              HasSubstr("between 1 and 65535"));
  EXPECT_THAT(
      message_of<ConfigError>([] { parse_storage_url("postgresql://h/db?pool_size=lots"); }),
      HasSubstr("pool_size"));
  EXPECT_THAT(message_of<ConfigError>([] { parse_storage_url("postgresql://h/db?pool_size=0"); }),
              HasSubstr("pool_size: must be at least 1"));
  EXPECT_THAT(message_of<ConfigError>(
                  [] { parse_storage_url("postgresql://h/db?partition_by_month=maybe"); }),
              HasSubstr("not a boolean"));
  EXPECT_THAT(message_of<ConfigError>([] { parse_storage_url("postgresql://h/db?schema=a;b"); }),
              HasSubstr("schema"));
}

TEST(ParseStorageUrl, EmptyOrSchemelessUrlIsAConfigError) {
  EXPECT_THAT(message_of<ConfigError>([] { parse_storage_url(""); }), HasSubstr("memory://"));
  EXPECT_THAT(message_of<ConfigError>([] { parse_storage_url("nemori.duckdb"); }),
              HasSubstr("no scheme"));
}

TEST(ParseStorageUrl, UnknownSchemeListsTheSupportedBackends) {
  const std::string message = message_of<UnsupportedBackendError>(
      [] { parse_storage_url("mysql://root:hunter2@localhost/db"); });
  EXPECT_THAT(message, HasSubstr("mysql"));
  EXPECT_THAT(message, HasSubstr("memory"));
  EXPECT_THAT(message, Not(HasSubstr("hunter2")));
  for (const std::string& backend : supported_backends()) {
    EXPECT_THAT(message, HasSubstr(backend));
  }
}

TEST(StorageUrlFromEnv, NemoriStorageUrlWinsOverPostgresqlUrl) {
  {
    ScopedEnv a("NEMORI_STORAGE_URL", "duckdb:///a.duckdb");
    ScopedEnv b("POSTGRESQL_URL", "postgresql://h/db");
    EXPECT_EQ(storage_url_from_env(), "duckdb:///a.duckdb");
  }
  {
    ScopedEnv a("NEMORI_STORAGE_URL", nullptr);
    ScopedEnv b("POSTGRESQL_URL", "postgresql://h/db");
    EXPECT_EQ(storage_url_from_env(), "postgresql://h/db");
  }
  {
    ScopedEnv a("NEMORI_STORAGE_URL", "");
    ScopedEnv b("POSTGRESQL_URL", nullptr);
    EXPECT_EQ(storage_url_from_env(), "");
  }
}

TEST(ValidateConfig, DefaultsAndParsedUrlsAreValid) {
  EXPECT_NO_THROW(validate(StorageConfig{}));
  StorageConfig memory;
  memory.backend = "memory";
  EXPECT_NO_THROW(validate(memory));
}

TEST(ValidateConfig, ListsEveryProblemOnItsOwnLine) {
  StorageConfig config;
  config.backend = "postgresql";
  config.url = "";
  config.pool_size = 0;
  config.batch_size = 0;
  config.schema = "1bad";
  config.connect_timeout = std::chrono::milliseconds(0);
  const std::string message = message_of<ConfigError>([&] { validate(config); });
  EXPECT_THAT(message, HasSubstr("\n  url: is required"));
  EXPECT_THAT(message, HasSubstr("\n  pool_size: must be at least 1"));
  EXPECT_THAT(message, HasSubstr("\n  batch_size: must be positive"));
  EXPECT_THAT(message, HasSubstr("\n  schema: \"1bad\""));
  EXPECT_THAT(message, HasSubstr("\n  connect_timeout: must be positive"));
}

TEST(ValidateConfig, NamesTheFieldOfEachProblem) {
  StorageConfig config;
  config.backend = "";
  EXPECT_THAT(message_of<ConfigError>([&] { validate(config); }), HasSubstr("backend: is empty"));
  config.backend = "oracle";
  EXPECT_THAT(message_of<ConfigError>([&] { validate(config); }),
              HasSubstr("unknown backend \"oracle\""));
  config.backend = "duckdb";
  config.path = "";
  EXPECT_THAT(message_of<ConfigError>([&] { validate(config); }), HasSubstr("path: is empty"));
  config.backend = "postgresql";
  config.url = "mysql://u:topsecret@h/db";
  const std::string message = message_of<ConfigError>([&] { validate(config); });
  EXPECT_THAT(message, HasSubstr("url: must start with postgresql://"));
  EXPECT_THAT(message, Not(HasSubstr("topsecret")));
  config.url = "postgresql://h/db";
  config.max_content_bytes = 0;
  EXPECT_THAT(message_of<ConfigError>([&] { validate(config); }),
              HasSubstr("max_content_bytes: must be positive"));
}

TEST(SupportedBackends, AlwaysIncludesMemoryFirst) {
  const auto backends = supported_backends();
  ASSERT_FALSE(backends.empty());
  EXPECT_EQ(backends.front(), "memory");
#ifdef NEMORI_HAVE_DUCKDB
  EXPECT_THAT(backends, ::testing::Contains("duckdb"));
#endif
#ifdef NEMORI_HAVE_POSTGRES
  EXPECT_THAT(backends, ::testing::Contains("postgresql"));
#endif
}

TEST(MaskPassword, HidesPasswordsWherevertheyAppear) {
  EXPECT_EQ(mask_password("postgresql://user:secret@host:5432/db"),
            "postgresql://user:***@host:5432/db");
  EXPECT_EQ(mask_password("postgresql://user@host/db"), "postgresql://user@host/db");
  EXPECT_EQ(mask_password("postgresql://host/db?user=u&password=secret&sslmode=require"),
            "postgresql://host/db?user=u&password=***&sslmode=require");
  EXPECT_EQ(mask_password("host=h password=secret dbname=x"), "host=h password=*** dbname=x");
  EXPECT_THAT(mask_password("postgresql://u:p/a?ss@host/db"), Not(HasSubstr("p/a?ss")));
  EXPECT_THAT(
      mask_password(
          "postgresql://u:p@h/db?read_replica_url=postgresql%3A%2F%2Fr%3Atopsecret%40r%2Fdb"),
      Not(HasSubstr("topsecret")));
  EXPECT_EQ(mask_password("memory://"), "memory://");
  EXPECT_EQ(mask_password("duckdb:///a:b@c.duckdb"), "duckdb:///a:b@c.duckdb");
}

TEST(MaskPassword, OneLetterPasswordMasksOnlyThePasswordNotTheWordsOfAMessage) {
  const std::string message =
      "connection to server at \"localhost\" (127.0.0.1), port 1 failed: Connection refused\n"
      "\tIs the server running on that host and accepting TCP/IP connections?\n"
      "invalid URI: \"postgresql://pat:p@localhost:1/app?sslmode=prefer\"";
  EXPECT_EQ(mask_password(message),
            "connection to server at \"localhost\" (127.0.0.1), port 1 failed: Connection refused\n"
            "\tIs the server running on that host and accepting TCP/IP connections?\n"
            "invalid URI: \"postgresql://pat:***@localhost:1/app?sslmode=prefer\"");
  EXPECT_EQ(mask_password("bad option in \"host=h password=p port=1\" (expected a number)"),
            "bad option in \"host=h password=*** port=1\" (expected a number)");
  EXPECT_EQ(mask_password("dbname=app password='p q\\'r' sslpassword=p user=pat"),
            "dbname=app password=*** sslpassword=*** user=pat");
  EXPECT_EQ(mask_password("two URLs: postgresql://a:p@h1/db and postgres://b:p@h2/db, password p"),
            "two URLs: postgresql://a:***@h1/db and postgres://b:***@h2/db, password p");
  EXPECT_EQ(mask_password("no url here: user:p@host"), "no url here: user:p@host");
}

TEST(OpenStorage, OpensMemoryByUrlAndConfig) {
  EXPECT_EQ(open_storage("memory://")->backend(), "memory");
  StorageConfig config;
  config.backend = "memory";
  EXPECT_EQ(open_storage(config)->backend(), "memory");
}

TEST(OpenStorage, BackendMissingFromTheBuildIsUnsupportedAndListsTheSupportedOnes) {
  StorageConfig config;
  config.backend = "oracle";
  const std::string message = message_of<UnsupportedBackendError>([&] { open_storage(config); });
  EXPECT_THAT(message, HasSubstr("oracle"));
  EXPECT_THAT(message, HasSubstr("memory"));
#ifndef NEMORI_HAVE_DUCKDB
  EXPECT_THAT(message_of<UnsupportedBackendError>([] { open_storage("duckdb:///x.duckdb"); }),
              HasSubstr("NEMORI_WITH_DUCKDB"));
#endif
#ifndef NEMORI_HAVE_POSTGRES
  EXPECT_THROW(open_storage("postgresql://h/db"), UnsupportedBackendError);
#endif
}

TEST(OpenStorage, InvalidConfigIsAConfigError) {
  StorageConfig config;
  config.backend = "memory";
  config.batch_size = 0;
  EXPECT_THROW(open_storage(config), ConfigError);
  config.backend = "";
  EXPECT_THROW(open_storage(config), ConfigError);
}

}  // namespace
}  // namespace nemori

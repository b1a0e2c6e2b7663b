// Builds offline: every dependency is replaced by its Debian source (golang-*-dev packages) and
// the SDK by the vendor folder that tests/interop/test_go_sdk.py unpacks into .cache/.
module imrunner/interop

go 1.19

require github.com/volcengine/volc-sdk-golang v1.0.253

require (
	github.com/cenkalti/backoff/v4 v4.0.0 // indirect
	github.com/google/uuid v1.0.0 // indirect
	golang.org/x/net v0.0.0 // indirect
	golang.org/x/text v0.7.0 // indirect
)

replace (
	github.com/cenkalti/backoff/v4 => /usr/share/gocode/src/github.com/cenkalti/backoff
	github.com/google/uuid => /usr/share/gocode/src/github.com/google/uuid
	github.com/volcengine/volc-sdk-golang => ../../../.cache/vendor-sdk
	golang.org/x/net => /usr/share/gocode/src/golang.org/x/net
	golang.org/x/text => /usr/share/gocode/src/golang.org/x/text
)

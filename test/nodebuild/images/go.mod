// The real test node's images without Docker: imagetool writes docker-archive tarballs that
// `ctr -n k8s.io images import` loads; pause and probe are the static binaries two of them hold.
module secure-workspace-operator/test/nodebuild/images

go 1.26.0

require github.com/google/go-containerregistry v0.22.1

require (
	github.com/klauspost/compress v1.19.2 // indirect
	github.com/opencontainers/go-digest v1.0.0 // indirect
	github.com/opencontainers/image-spec v1.1.1 // indirect
)

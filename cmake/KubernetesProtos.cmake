# Kubernetes' protobuf schema of the core/v1 kinds, embedded in kubedl_kube as a descriptor set
# (no generated code: lib/kube/src/protobuf_codec.cc builds messages through reflection).
# The .proto files come from the Go modules k8s.io/api and k8s.io/apimachinery at the staging
# version of the pinned Kubernetes (tools/controlplane/versions.env), fetched once into the
# control plane's Go module cache by tools/controlplane/go-module-files.sh.
#   kubedl_kubernetes_descriptors(<out_var>): sets <out_var> to the generated .cc that defines
#   kubedl::kube::kKubernetesDescriptorSet and kKubernetesDescriptorSetSize.
function(kubedl_kubernetes_descriptors out_var)
  file(STRINGS ${PROJECT_SOURCE_DIR}/tools/controlplane/versions.env k8s_line REGEX "^K8S_VERSION=")
  string(REGEX REPLACE "^K8S_VERSION=v1\\.(.*)$" "v0.\\1" staging "${k8s_line}")
  set(root ${CMAKE_CURRENT_BINARY_DIR}/kubernetes-proto)
  set(protos
    "api|core/v1"
    "apimachinery|pkg/api/resource"
    "apimachinery|pkg/apis/meta/v1"
    "apimachinery|pkg/runtime"
    "apimachinery|pkg/runtime/schema"
    "apimachinery|pkg/util/intstr")
  set(copied)
  foreach(entry ${protos})
    string(REPLACE "|" ";" parts "${entry}")
    list(GET parts 0 module)
    list(GET parts 1 subdir)
    execute_process(
      COMMAND bash ${PROJECT_SOURCE_DIR}/tools/controlplane/go-module-files.sh
              k8s.io/${module} ${staging} ${subdir}
      OUTPUT_VARIABLE folder ERROR_VARIABLE why RESULT_VARIABLE rc
      OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT rc EQUAL 0 OR NOT EXISTS ${folder}/generated.proto)
      message(FATAL_ERROR "k8s.io/${module}@${staging}/${subdir}/generated.proto is needed for "
                          "the client's protobuf encoding (make deps installs Go, which fetches "
                          "it): ${why}")
    endif()
    set(dest ${root}/k8s.io/${module}/${subdir}/generated.proto)
    configure_file(${folder}/generated.proto ${dest} COPYONLY)
    list(APPEND copied ${dest})
  endforeach()
  set(desc ${CMAKE_CURRENT_BINARY_DIR}/kubernetes_core_v1.desc)
  set(cc ${CMAKE_CURRENT_BINARY_DIR}/kubernetes_descriptor_set.cc)
  add_custom_command(
    OUTPUT ${desc}
    COMMAND protobuf::protoc -I${root} --include_imports --descriptor_set_out=${desc}
            k8s.io/api/core/v1/generated.proto
    DEPENDS ${copied} protobuf::protoc
    COMMENT "protoc: Kubernetes ${staging} core/v1 descriptors")
  add_custom_command(
    OUTPUT ${cc}
    COMMAND ${CMAKE_COMMAND} -DIN=${desc} -DOUT=${cc} -DNAME=KubernetesDescriptorSet
            -P ${PROJECT_SOURCE_DIR}/cmake/EmbedBytes.cmake
    DEPENDS ${desc} ${PROJECT_SOURCE_DIR}/cmake/EmbedBytes.cmake
    COMMENT "embedding the Kubernetes descriptors")
  set(${out_var} ${cc} PARENT_SCOPE)
endfunction()

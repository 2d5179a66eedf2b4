#include "services/paysandbox/service.hpp"

int main(int argc, char** argv) {
  return crowd::service_main(argc, argv, crowd::paysandbox::spec());
}

#include "services/invoicing/service.hpp"

int main(int argc, char** argv) {
  return crowd::service_main(argc, argv, crowd::invoicing::spec());
}

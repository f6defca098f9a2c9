export { generate, type GenerateOptions, type Generated } from './generate.ts';
export { SERVICES, SERVICE_NEEDS, servicePermissions, tenantPermissions, type Permissions, type ServiceRole } from './permissions.ts';
export { renderServerConfig, type NatsUser } from './render.ts';

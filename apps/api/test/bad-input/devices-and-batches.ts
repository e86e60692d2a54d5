import { type Case, ID } from './case.js'

/** Devices and refurbishment batches. */
export const deviceAndBatchCases: Case[] = [
  {
    name: 'no devices',
    method: 'POST',
    url: '/devices',
    body: { devices: [] },
    status: 400,
    field: /body\.devices must NOT have fewer than 1 items/,
  },
  {
    name: 'devices not a list',
    method: 'POST',
    url: '/devices',
    body: {
      devices: {
        deviceId: 'DEV-0001',
        modelNumber: 'TG5',
        hardwareEdition: 'BROWN-TEXTURE-WORLDWIDE',
        innerboxId: 'IB-0001',
        masterboxId: 'MB-0001',
      },
    },
    status: 400,
    field: /body\.devices must be array/,
  },
  {
    name: 'device id too short',
    method: 'POST',
    url: '/devices',
    body: {
      devices: [
        {
          ...{
            deviceId: 'DEV-0001',
            modelNumber: 'TG5',
            hardwareEdition: 'BROWN-TEXTURE-WORLDWIDE',
            innerboxId: 'IB-0001',
            masterboxId: 'MB-0001',
          },
          deviceId: 'D1',
        },
      ],
    },
    status: 400,
    field: /body\.devices\.0\.deviceId/,
  },
  {
    name: 'device id with a slash',
    method: 'POST',
    url: '/devices',
    body: {
      devices: [
        {
          ...{
            deviceId: 'DEV-0001',
            modelNumber: 'TG5',
            hardwareEdition: 'BROWN-TEXTURE-WORLDWIDE',
            innerboxId: 'IB-0001',
            masterboxId: 'MB-0001',
          },
          deviceId: 'DEV/0001',
        },
      ],
    },
    status: 400,
    field: /body\.devices\.0\.deviceId must match pattern/,
  },
  {
    name: 'device without a masterbox',
    method: 'POST',
    url: '/devices',
    body: {
      devices: [
        {
          ...{
            deviceId: 'DEV-0001',
            modelNumber: 'TG5',
            hardwareEdition: 'BROWN-TEXTURE-WORLDWIDE',
            innerboxId: 'IB-0001',
            masterboxId: 'MB-0001',
          },
          masterboxId: undefined,
        },
      ],
    },
    status: 400,
    field: /body\.devices\.0\.masterboxId is required/,
  },
  {
    name: 'device with an extra field',
    method: 'POST',
    url: '/devices',
    body: {
      devices: [
        {
          ...{
            deviceId: 'DEV-0001',
            modelNumber: 'TG5',
            hardwareEdition: 'BROWN-TEXTURE-WORLDWIDE',
            innerboxId: 'IB-0001',
            masterboxId: 'MB-0001',
          },
          status: 'SHIPPED',
        },
      ],
    },
    status: 400,
    field: /body\.devices\.0\.status is not an allowed field/,
  },
  {
    name: 'lower-case model number',
    method: 'POST',
    url: '/devices',
    body: {
      devices: [
        {
          ...{
            deviceId: 'DEV-0001',
            modelNumber: 'TG5',
            hardwareEdition: 'BROWN-TEXTURE-WORLDWIDE',
            innerboxId: 'IB-0001',
            masterboxId: 'MB-0001',
          },
          modelNumber: 'tg5',
        },
      ],
    },
    status: 400,
    field: /body\.devices\.0\.modelNumber/,
  },
  {
    name: 'device id of 41 characters',
    method: 'GET',
    url: `/devices/${'D'.repeat(41)}`,
    status: 400,
    field: /params\.deviceId/,
  },
  {
    name: 'unknown device status filter',
    method: 'GET',
    url: '/devices?status=LOST',
    status: 400,
    field: /querystring\.status must be one of IN_STOCK, IN_BATCH, SHIPPED/,
  },
  { name: 'malformed cursor', method: 'GET', url: '/devices?cursor=%7B%7D', status: 400, field: /querystring\.cursor/ },
  {
    name: 'batch without a model',
    method: 'POST',
    url: '/refurbishment-batches',
    body: { description: 'x', hardwareEdition: 'BLACK' },
    status: 400,
    field: /body\.modelNumber is required/,
  },
  {
    name: 'batch with an empty description',
    method: 'POST',
    url: '/refurbishment-batches',
    body: { description: '', modelNumber: 'TG5', hardwareEdition: 'BLACK-WORLDWIDE' },
    status: 400,
    field: /body\.description/,
  },
  {
    name: 'batch of an unknown model',
    method: 'POST',
    url: '/refurbishment-batches',
    body: { description: 'x', modelNumber: 'TX9', hardwareEdition: 'RED' },
    status: 422,
    field: /not in the catalogue/,
  },
  {
    name: 'batch with a number chosen by the client',
    method: 'POST',
    url: '/refurbishment-batches',
    body: { description: 'x', modelNumber: 'TG5', hardwareEdition: 'BLACK-WORLDWIDE', number: 1 },
    status: 400,
    field: /body\.number is not an allowed field/,
  },
  {
    name: 'batch id not a uuid',
    method: 'GET',
    url: '/refurbishment-batches/67',
    status: 400,
    field: /params\.id must match format "uuid"/,
  },
  {
    name: 'batch that does not exist',
    method: 'POST',
    url: `/refurbishment-batches/${ID}/pack`,
    status: 404,
    field: /does not exist/,
  },
  {
    name: 'add neither ids nor a masterbox',
    method: 'POST',
    url: `/refurbishment-batches/${ID}/devices`,
    body: {},
    status: 400,
    field: /body/,
  },
  {
    name: 'add ids and a masterbox at once',
    method: 'POST',
    url: `/refurbishment-batches/${ID}/devices`,
    body: { deviceIds: ['DEV-0001'], masterboxId: 'MB-0001' },
    status: 400,
    field: /body/,
  },
  {
    name: 'add an empty id list',
    method: 'POST',
    url: `/refurbishment-batches/${ID}/devices`,
    body: { deviceIds: [] },
    status: 400,
    field: /body/,
  },
  {
    name: 'ship without a tracking number',
    method: 'POST',
    url: `/refurbishment-batches/${ID}/ship`,
    body: {},
    status: 400,
    field: /body\.trackingNumber is required/,
  },
  {
    name: 'edit a batch with no change',
    method: 'PATCH',
    url: `/refurbishment-batches/${ID}`,
    body: {},
    status: 400,
    field: /body\.description is required/,
  },
]
